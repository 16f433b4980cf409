using System.Buffers.Binary;
using Bogus;

namespace UserStream.Ingest.Sources.Generator;

/// <summary>
/// A <see cref="Random"/> with 64-bit state (SplitMix64) that can be re-seeded in place, so that every
/// generated user gets its own stream without an allocation and without the collisions of 32-bit seeds
/// (with <c>new Random(int)</c>, two users in a hundred thousand would come out identical).
/// </summary>
internal sealed class ReseedableRandom : Random
{
    private ulong _state;

    public void Reseed(ulong seed) => _state = seed;

    public ulong NextUInt64()
    {
        var z = _state += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    public override int Next() => (int)(NextUInt64() >> 33);

    public override int Next(int maxValue)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(maxValue);
        return (int)(((NextUInt64() >> 32) * (ulong)maxValue) >> 32);
    }

    public override int Next(int minValue, int maxValue)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(minValue, maxValue);
        var range = (ulong)((long)maxValue - minValue);
        return (int)(minValue + (long)(((NextUInt64() >> 32) * range) >> 32));
    }

    public override long NextInt64() => (long)(NextUInt64() >> 1);

    public override long NextInt64(long maxValue) => NextInt64(0, maxValue);

    public override long NextInt64(long minValue, long maxValue)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(minValue, maxValue);
        var range = (ulong)(maxValue - minValue);
        return range == 0 ? minValue : minValue + (long)(NextUInt64() % range);
    }

    public override double NextDouble() => (NextUInt64() >> 11) * (1.0 / (1UL << 53));

    public override float NextSingle() => (NextUInt64() >> 40) * (1.0f / (1U << 24));

    protected override double Sample() => NextDouble();

    public override void NextBytes(byte[] buffer) => NextBytes(buffer.AsSpan());

    public override void NextBytes(Span<byte> buffer)
    {
        while (buffer.Length >= 8)
        {
            BinaryPrimitives.WriteUInt64LittleEndian(buffer, NextUInt64());
            buffer = buffer[8..];
        }

        if (buffer.Length > 0)
        {
            Span<byte> last = stackalloc byte[8];
            BinaryPrimitives.WriteUInt64LittleEndian(last, NextUInt64());
            last[..buffer.Length].CopyTo(buffer);
        }
    }
}

/// <summary>A Bogus <see cref="Randomizer"/> drawing from a <see cref="ReseedableRandom"/>.</summary>
internal sealed class ReseedableRandomizer : Randomizer
{
    private readonly ReseedableRandom _random = new();

    public ReseedableRandomizer() => localSeed = _random;

    public void Reseed(ulong seed) => _random.Reseed(seed);

    public ulong NextUInt64() => _random.NextUInt64();
}
