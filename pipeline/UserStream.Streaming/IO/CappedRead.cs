namespace UserStream.Streaming.IO;

/// <summary>
/// Reading a whole body while it streams in, never past a cap: the one way the pipeline reads a body it does not
/// trust (the ingest API's requests, randomuser's responses). A body of any length costs at most the cap + 1 bytes.
/// </summary>
public static class CappedRead
{
    /// <summary>
    /// The whole of <paramref name="stream"/>, or null as soon as it proves longer than <paramref name="cap"/> bytes.
    /// <paramref name="sizeHint"/> (e.g. a declared Content-Length within the cap) sizes the first buffer, which then
    /// doubles as needed up to the cap + 1.
    /// </summary>
    public static async Task<ReadOnlyMemory<byte>?> ReadAsync(Stream stream, int cap, long? sizeHint, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentOutOfRangeException.ThrowIfNegative(cap);
        var buffer = new byte[(int)Math.Min(sizeHint ?? 64 * 1024, cap) + 1];
        var length = 0;
        while (true)
        {
            if (length == buffer.Length)
            {
                if (length > cap)
                {
                    return null;
                }

                Array.Resize(ref buffer, (int)Math.Min((long)buffer.Length * 2, (long)cap + 1));
            }

            var read = await stream.ReadAsync(buffer.AsMemory(length), cancellationToken);
            if (read == 0)
            {
                return buffer.AsMemory(0, length);
            }

            length += read;
        }
    }
}
