using System.Diagnostics.Metrics;
using UserStream.Sink.Telemetry;

namespace UserStream.Tests.Sink;

/// <summary>What an operator sees on the UserStream.Sink meter.</summary>
public sealed class SinkMetricsTests(KafkaBroker broker, PostgresDatabase database) : SinkTests(broker, database)
{
    [Fact]
    public async Task The_meter_reports_rows_written_batches_dead_letters_by_reason_and_a_lag_that_drains_to_zero()
    {
        var rig = NewRig();
        var users = TestUsers.Users(150, seed: 61);
        var messages = users.Select(TestUsers.Message).ToList();
        messages.Add(TestUsers.Message("bad-1", Encoding.UTF8.GetBytes("[]")));
        messages.Add(TestUsers.Message("bad-2", Encoding.UTF8.GetBytes("nope")));
        await using var sink = await rig.StartSinkAsync();
        var meter = sink.Services.GetRequiredService<StageTelemetry>().Meter;
        var longs = new ConcurrentQueue<(string Name, long Value, KeyValuePair<string, object?>[] Tags)>();
        var doubles = new ConcurrentQueue<string>();
        using var listener = new MeterListener
        {
            InstrumentPublished = (instrument, l) =>
            {
                if (ReferenceEquals(instrument.Meter, meter))
                {
                    l.EnableMeasurementEvents(instrument);
                }
            },
        };
        listener.SetMeasurementEventCallback<long>((i, v, tags, _) => longs.Enqueue((i.Name, v, tags.ToArray())));
        listener.SetMeasurementEventCallback<int>((i, v, tags, _) => longs.Enqueue((i.Name, v, tags.ToArray())));
        listener.SetMeasurementEventCallback<double>((i, _, _, _) => doubles.Enqueue(i.Name));
        listener.Start();

        await rig.ProduceAsync(messages);
        await rig.WaitForCommittedAsync(messages.Count);

        Assert.Equal(users.Count, longs.Where(m => m.Name == SinkMetrics.RowsWrittenName).Sum(m => m.Value));
        Assert.Equal(messages.Count, longs.Where(m => m.Name == SinkMetrics.BatchSizeName).Sum(m => m.Value));
        Assert.Equal(2, longs.Where(m => m.Name == SinkMetrics.DeadLetteredName
            && m.Tags.Contains(new KeyValuePair<string, object?>("reason", "deserialization_failed"))).Sum(m => m.Value));
        Assert.Contains(SinkMetrics.WriteDurationName, doubles);

        var lag = await Eventually.Async(
            () =>
            {
                var observed = new List<long>();
                using var gauge = new MeterListener
                {
                    InstrumentPublished = (instrument, l) =>
                    {
                        if (ReferenceEquals(instrument.Meter, meter) && instrument.Name == SinkMetrics.ConsumerLagName)
                        {
                            l.EnableMeasurementEvents(instrument);
                        }
                    },
                };
                gauge.SetMeasurementEventCallback<long>((_, v, _, _) => observed.Add(v));
                gauge.Start();
                gauge.RecordObservableInstruments();
                return Task.FromResult(observed);
            },
            observed => observed.Count == 3 && observed.Sum() == 0, cancellationToken: Ct);
        Assert.Equal([0L, 0L, 0L], lag);
    }
}
