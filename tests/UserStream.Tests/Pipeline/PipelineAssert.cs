namespace UserStream.Tests.Pipeline;

/// <summary>What a user of the pipeline checks at its ends: the run ledger, the store, the topics between.</summary>
internal static class PipelineAssert
{
    /// <summary>GET /runs/{id} shows the run succeeded with every requested user fetched and acknowledged.</summary>
    public static void Succeeded(RunView run, int size)
    {
        Assert.True(
            (run.Status, run.Requested, run.Fetched, run.Produced, run.Failed) == ("succeeded", size, size, size, 0),
            $"run {run.Id}: {run.Status}, requested {run.Requested}, fetched {run.Fetched}, produced {run.Produced}, failed {run.Failed}: {run.Error}");
    }

    /// <summary>Nothing was dead-lettered (else: which records, and why).</summary>
    public static void NoDeadLetters(IReadOnlyList<ConsumeResult<string, byte[]>> deadLetters) =>
        Assert.True(
            deadLetters.Count == 0,
            $"{deadLetters.Count} dead letter(s): " + string.Join("; ", deadLetters.Take(5).Select(d =>
                $"{d.Message.Key}: {d.Message.Headers.GetString(DeadLetterHeaders.Stage)} {d.Message.Headers.GetString(DeadLetterHeaders.ErrorCode)}: " +
                d.Message.Headers.GetString(DeadLetterHeaders.Reason))));

    /// <summary>The store holds exactly one row per id of <paramref name="expected"/>: none missing, none extra.</summary>
    public static void ExactlyTheseRows(IReadOnlyCollection<Guid> expected, IReadOnlyList<EnrichedUser> stored, string context = "")
    {
        var ids = stored.Select(u => u.Id).ToList();
        var missing = expected.Except(ids).ToList();
        var extra = ids.Except(expected).ToList();
        var doubled = ids.GroupBy(i => i).Where(g => g.Count() > 1).Select(g => g.Key).ToList();
        Assert.True(
            ids.Count == expected.Count && missing.Count == 0 && extra.Count == 0 && doubled.Count == 0,
            $"expected {expected.Count} rows, one per produced user; found {ids.Count}: missing {missing.Describe()}, " +
            $"not produced {extra.Describe()}, doubled {doubled.Describe()}{context}");
    }

    /// <summary>
    /// Every stored row equals, property by property, the users_enriched record the processor produced for
    /// that id (timestamps at the store's precision, microseconds).
    /// </summary>
    public static void StoredAsEnriched(IReadOnlyList<ConsumeResult<string, byte[]>> enriched, IReadOnlyList<EnrichedUser> stored)
    {
        var rows = stored.ToDictionary(u => u.Id);
        var differences = new List<string>();
        foreach (var record in enriched)
        {
            var produced = record.User();
            if (!rows.TryGetValue(produced.Id, out var row))
            {
                differences.Add($"{produced.Id}: no row");
                continue;
            }

            differences.AddRange(Differences(produced, row).Select(d => $"{produced.Id}: {d}"));
        }

        Assert.True(differences.Count == 0, $"{differences.Count} difference(s) between users_enriched and created_users:\n" + string.Join("\n", differences.Take(20)));
    }

    /// <summary>The properties whose stored value is not the produced one.</summary>
    public static IEnumerable<string> Differences(EnrichedUser produced, EnrichedUser stored)
    {
        foreach (var property in typeof(EnrichedUser).GetProperties())
        {
            var expected = property.GetValue(produced);
            var actual = property.GetValue(stored);
            var same = expected is DateTimeOffset time
                ? actual is DateTimeOffset storedTime && AtMicroseconds(time) == storedTime
                : Equals(expected, actual);
            if (!same)
            {
                yield return $"{property.Name}: produced {expected ?? "null"}, stored {actual ?? "null"}";
            }
        }
    }

    /// <summary>PostgreSQL keeps whole microseconds (Npgsql truncates).</summary>
    private static DateTimeOffset AtMicroseconds(DateTimeOffset value) => value.AddTicks(-(value.Ticks % 10));
}

/// <summary>Reading a users_enriched record.</summary>
internal static class EnrichedRecords
{
    public static EnrichedUser User(this ConsumeResult<string, byte[]> record) => EnrichedUserJson.Deserialize(record.Message.Value);

    public static string Describe(this IReadOnlyCollection<Guid> ids) =>
        $"{ids.Count} ({string.Join(", ", ids.Take(5).Select(i => i.ToString("D", CultureInfo.InvariantCulture)))}{(ids.Count > 5 ? ", …" : "")})";
}
