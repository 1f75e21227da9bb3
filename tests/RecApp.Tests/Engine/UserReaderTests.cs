using RecApp.Data.Users;

namespace RecApp.Tests.Engine;

/// <summary>
/// The history read takes the items a user ever touched from their newest events when those are all there are, and
/// reads them separately only when the events were cut at the limit: either way every item is seen.
/// </summary>
public sealed class UserReaderTests
{
    [Theory]
    [InlineData(50)] // every event read: the seen items come from the events
    [InlineData(3)]  // the newest 3 of 8: the older items need the second read
    public async Task Every_item_the_user_touched_is_seen_whatever_the_recent_limit(int recent)
    {
        await using var dataSource = await EngineDatabase.CreateAsync();
        await EngineDatabase.ExecuteAsync(dataSource, """
            INSERT INTO items (id, title, category) SELECT g, 't', 'c' FROM generate_series(1, 10) g;
            INSERT INTO interactions (user_id, item_id, type, occurred_at)
            SELECT 7, g, 1, timestamptz '2026-01-01' + g * interval '1 hour' FROM generate_series(1, 8) g;
            INSERT INTO interactions (user_id, item_id, type, occurred_at) VALUES (8, 9, 1, now());
            INSERT INTO users (id, gender) VALUES (7, 'f');
            """);
        var users = new UserReader(dataSource);

        var (history, demographics) = await users.ReadAsync(7, recent, TestContext.Current.CancellationToken);

        Assert.Equal(Math.Min(recent, 8), history.Recent.Count);
        Assert.Equal(Enumerable.Range(1, 8).Select(i => (long)i).Order(), history.Seen.Order());
        Assert.Equal([8L, 7L, 6L], history.Recent.Take(3).Select(e => e.ItemId)); // newest first
        Assert.Equal("f", demographics.Gender);
    }
}
