using UserStream.Sink.Cassandra;

namespace UserStream.Tests.Sink;

/// <summary>Write timestamps order versions by ingestion time; day buckets are UTC dates.</summary>
public sealed class CassandraTimeTests
{
    [Fact]
    public void The_write_timestamp_is_microseconds_since_the_unix_epoch()
    {
        var ingestedAt = new DateTimeOffset(2024, 1, 2, 3, 4, 5, TimeSpan.Zero).AddTicks(67_890);

        Assert.Equal(1_704_164_645_006_789L, CassandraTime.WriteTimestamp(ingestedAt));
        Assert.Equal(0L, CassandraTime.WriteTimestamp(DateTimeOffset.UnixEpoch));
    }

    [Fact]
    public void A_later_ingestion_always_gets_a_larger_write_timestamp_and_a_redelivery_the_same_one()
    {
        var first = new DateTimeOffset(2025, 6, 1, 12, 0, 0, TimeSpan.FromHours(-5));

        Assert.Equal(CassandraTime.WriteTimestamp(first), CassandraTime.WriteTimestamp(first.ToUniversalTime()));
        Assert.True(CassandraTime.WriteTimestamp(first.AddTicks(10)) > CassandraTime.WriteTimestamp(first));
        Assert.True(CassandraTime.WriteTimestamp(first.AddDays(-30)) < CassandraTime.WriteTimestamp(first));
    }

    [Fact]
    public void An_ingestion_time_before_the_epoch_is_refused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => CassandraTime.WriteTimestamp(default));
    }

    [Fact]
    public void The_day_bucket_is_the_UTC_date_of_ingestion()
    {
        var lateEvening = new DateTimeOffset(2025, 6, 1, 23, 30, 0, TimeSpan.FromHours(-2));

        Assert.Equal("2025-06-02", CassandraTime.DayBucket(lateEvening));
        Assert.Equal(
            ["2025-06-02", "2025-06-01", "2025-05-31"],
            CassandraTime.DayBucketsBackFrom(lateEvening, 3));
    }

    [Fact]
    public void Column_precision_drops_sub_millisecond_ticks_and_keeps_the_instant()
    {
        var value = new DateTimeOffset(2025, 6, 1, 8, 0, 0, 123, TimeSpan.FromHours(2)).AddTicks(9_999);

        var stored = CassandraTime.ToColumnPrecision(value);

        Assert.Equal(TimeSpan.Zero, stored.Offset);
        Assert.Equal(new DateTimeOffset(2025, 6, 1, 6, 0, 0, 123, TimeSpan.Zero), stored);
    }
}
