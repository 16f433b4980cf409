namespace UserStream.Streaming.Kafka;

/// <summary>Records not yet consumed, per assigned partition, from the consumer's cached watermarks and positions.</summary>
public static class ConsumerLag
{
    /// <summary>
    /// High watermark - position for each assigned partition that has both (no network call: librdkafka's
    /// cached figures). Call it on the consumer's thread.
    /// </summary>
    public static IReadOnlyList<(string Topic, int Partition, long Lag)> Of<TKey, TValue>(IConsumer<TKey, TValue> consumer)
    {
        ArgumentNullException.ThrowIfNull(consumer);
        var lag = new List<(string, int, long)>();
        foreach (var partition in consumer.Assignment)
        {
            try
            {
                var watermarks = consumer.GetWatermarkOffsets(partition);
                var position = consumer.Position(partition);
                if (watermarks.High.Value >= 0 && position.Value >= 0)
                {
                    lag.Add((partition.Topic, partition.Partition.Value, Math.Max(0, watermarks.High.Value - position.Value)));
                }
            }
            catch (KafkaException)
            {
                // No position yet (nothing fetched): no figure for this partition.
            }
        }

        return lag;
    }
}
