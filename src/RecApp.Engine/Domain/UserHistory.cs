namespace RecApp.Engine.Domain;

/// <summary>One event of the user's own history, as read at scoring time.</summary>
public readonly record struct HistoryEvent(long ItemId, InteractionType Type, float? Value, DateTime OccurredAt);

/// <summary>
/// A user's history as scoring reads it: <see cref="Recent"/>, the most recent events (at most
/// <see cref="RecApp.Engine.HistoryOptions.RecentEvents"/>), weigh the profile; <see cref="Seen"/>, every item the user
/// ever interacted with, is never recommended again and sets the tier.
/// </summary>
public sealed record UserHistory(IReadOnlyList<HistoryEvent> Recent, IReadOnlySet<long> Seen)
{
    public static UserHistory Empty { get; } = new([], new HashSet<long>());

    /// <summary>
    /// The one history rule, from all of a user's events: the <paramref name="recent"/> newest (time descending, then item
    /// id descending, then type descending, the order the API reads them in) and every distinct item.
    /// </summary>
    public static UserHistory From(IEnumerable<HistoryEvent> events, int recent)
    {
        var all = events.ToList();
        var seen = new HashSet<long>(all.Select(e => e.ItemId));
        all.Sort(static (a, b) => a.OccurredAt != b.OccurredAt ? b.OccurredAt.CompareTo(a.OccurredAt)
            : a.ItemId != b.ItemId ? b.ItemId.CompareTo(a.ItemId) : ((short)b.Type).CompareTo((short)a.Type));
        if (all.Count > recent)
        {
            all.RemoveRange(Math.Max(recent, 0), all.Count - Math.Max(recent, 0));
        }
        return new UserHistory(all, seen);
    }

    /// <summary>
    /// The same rule over events from more than one store (the source database and <c>recdb</c>), each read as its own
    /// newest events plus every item touched: <paramref name="alsoSeen"/> are those items, beyond the events given.
    /// </summary>
    public static UserHistory From(IEnumerable<HistoryEvent> events, int recent, IEnumerable<long> alsoSeen)
    {
        var history = From(events, recent);
        var seen = new HashSet<long>(history.Seen);
        seen.UnionWith(alsoSeen);
        return history with { Seen = seen };
    }
}
