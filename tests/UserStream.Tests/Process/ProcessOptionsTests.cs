using Microsoft.Extensions.Options;
using UserStream.Process;

namespace UserStream.Tests.Process;

/// <summary>The stage refuses to start on settings it cannot honour, naming the key.</summary>
public sealed class ProcessOptionsTests
{
    [Theory]
    [InlineData("Process:Batch:MaxCount", "0", "MaxCount")]
    [InlineData("Process:Validation:MaxRecordBytes", "2000000", "MaxRecordBytes")]
    [InlineData("Process:Validation:MaxDepth", "2", "MaxDepth")]
    [InlineData("Process:InstanceId", "", "InstanceId")]
    [InlineData("Process:TransactionTimeout", "00:00:00.100", "TransactionTimeout")]
    [InlineData("Process:DeadLetters:ReplayBatchSize", "0", "Process:DeadLetters:ReplayBatchSize: The field ReplayBatchSize")]
    [InlineData("Process:DeadLetters:ReadTimeout", "00:10:00", "Process:DeadLetters:ReadTimeout: The field ReadTimeout")]
    [InlineData("Process:DeadLetters:ReplayTransactionalId", "", "Process:DeadLetters:ReplayTransactionalId: The ReplayTransactionalId field")]
    [InlineData("Process:DeadLetters:ReplayTopic", "users_dlq", "Process:DeadLetters:ReplayTopic")]
    [InlineData("Api:Key", "short", "Api:Key")]
    public async Task An_invalid_setting_stops_the_stage_at_startup(string key, string value, string named)
    {
        var settings = new Dictionary<string, string?> { ["Kafka:BootstrapServers"] = "127.0.0.1:9", [key] = value };

        var failure = await Assert.ThrowsAsync<OptionsValidationException>(
            () => StageHost.StartAsync(settings, builder => builder.AddProcessStage(), cancellationToken: TestContext.Current.CancellationToken));

        Assert.Contains(named, failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_defaults_are_valid_and_name_the_pipeline_topics()
    {
        var options = new ProcessOptions();

        Assert.Empty(options.Validate(new System.ComponentModel.DataAnnotations.ValidationContext(options)));
        Assert.Equal(("users_created", "users_enriched", "users_dlq", "processor"), (options.InputTopic, options.OutputTopic, options.DeadLetterTopic, options.ConsumerGroup));
        Assert.Equal(Environment.MachineName, options.InstanceId);
        Assert.Equal("users_dlq_replays", options.DeadLetters.ReplayTopic);
    }
}
