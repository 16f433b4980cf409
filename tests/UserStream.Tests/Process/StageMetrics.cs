using System.Diagnostics.Metrics;

namespace UserStream.Tests.Process;

/// <summary>Sums of a stage's counters (the process stage's unless told), per hosted stage (each host has its own Meter).</summary>
internal sealed class StageMetrics : IDisposable
{
    private readonly MeterListener _listener = new();
    private readonly ConcurrentDictionary<(Meter Meter, string Instrument), long> _sums = new();

    public StageMetrics(string meterName = StageTelemetry.Process)
    {
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == meterName)
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<long>((instrument, value, _, _) =>
            _sums.AddOrUpdate((instrument.Meter, instrument.Name), value, (_, sum) => sum + value));
        _listener.Start();
    }

    public long Sum(StageHost stage, string instrument) =>
        _sums.GetValueOrDefault((stage.Services.GetRequiredService<StageTelemetry>().Meter, instrument));

    public void Dispose() => _listener.Dispose();
}
