namespace Aspire.Hosting.ApplicationModel;

/// <summary>
/// A Cassandra node in a container. Its connection string is the DataStax driver's form,
/// <c>Contact Points={host};Port={port}</c>, resolved for whoever references it.
/// </summary>
public sealed class CassandraResource(string name) : ContainerResource(name), IResourceWithConnectionString
{
    internal const string PrimaryEndpointName = "cql";

    /// <summary>The port the native protocol (CQL) listens on in the container.</summary>
    internal const int CqlPort = 9042;

    private EndpointReference? _primaryEndpoint;

    /// <summary>The CQL endpoint.</summary>
    public EndpointReference PrimaryEndpoint => _primaryEndpoint ??= new EndpointReference(this, PrimaryEndpointName);

    public ReferenceExpression ConnectionStringExpression => ReferenceExpression.Create(
        $"Contact Points={PrimaryEndpoint.Property(EndpointProperty.Host)};Port={PrimaryEndpoint.Property(EndpointProperty.Port)}");
}
