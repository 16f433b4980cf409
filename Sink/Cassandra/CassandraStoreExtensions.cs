using Cassandra.OpenTelemetry;
using Microsoft.Extensions.DependencyInjection.Extensions;
using OpenTelemetry.Trace;
using UserStream.Contracts;
using UserStream.Sink.Cassandra;
using UserStream.Sink.Store;
using UserStream.Streaming.Hosting;

namespace UserStream.Services.Sink.Cassandra;

internal static class CassandraStoreExtensions
{
    /// <summary>
    /// The Cassandra <see cref="IUserStore"/> (registered before the sink stage, so the stage's PostgreSQL
    /// default stays unused): <c>ConnectionStrings:cassandra</c> (checked now, so a bad one fails at
    /// startup), options from <c>Sink:Cassandra</c>, one session per process, and the driver's
    /// OpenTelemetry spans.
    /// </summary>
    public static IHostApplicationBuilder AddCassandraUserStore(this IHostApplicationBuilder builder)
    {
        var settings = CassandraConnectionSettings.Parse(builder.Configuration.GetConnectionString(ResourceNames.Cassandra));

        builder.Services.AddValidatedOptions<CassandraStoreOptions>(builder.Configuration, CassandraStoreOptions.SectionName);
        builder.Services.TryAddSingleton(TimeProvider.System);
        builder.Services.AddSingleton(settings);
        builder.Services.AddSingleton<CassandraConnection>();
        builder.Services.AddSingleton<IUserStore, CassandraUserStore>();

        builder.Services.AddOpenTelemetry()
            .WithTracing(tracing => tracing.AddSource(CassandraActivitySourceHelper.ActivitySourceName));

        return builder;
    }
}
