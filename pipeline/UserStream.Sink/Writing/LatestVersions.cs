namespace UserStream.Sink.Writing;

/// <summary>
/// One version per user id: the one with the latest <see cref="EnrichedUser.IngestedAt"/> (on a tie, the
/// later one in the list). A batch must not carry one id twice: the later version wins, as in the store.
/// </summary>
public static class LatestVersions
{
    /// <summary>The latest version of each id in <paramref name="users"/>, in first-seen order.</summary>
    public static IReadOnlyList<EnrichedUser> Of(IReadOnlyList<EnrichedUser> users) => Of(users, u => u);

    /// <summary>The items whose user is the latest version of its id, in first-seen order.</summary>
    public static IReadOnlyList<T> Of<T>(IReadOnlyList<T> items, Func<T, EnrichedUser> user)
    {
        ArgumentNullException.ThrowIfNull(items);
        ArgumentNullException.ThrowIfNull(user);
        if (items.Count < 2)
        {
            return items;
        }

        var slotById = new Dictionary<Guid, int>(items.Count);
        var kept = new List<T>(items.Count);
        foreach (var item in items)
        {
            var candidate = user(item);
            if (!slotById.TryGetValue(candidate.Id, out var slot))
            {
                slotById[candidate.Id] = kept.Count;
                kept.Add(item);
            }
            else if (candidate.IngestedAt >= user(kept[slot]).IngestedAt)
            {
                kept[slot] = item;
            }
        }

        return kept.Count == items.Count ? items : kept;
    }
}
