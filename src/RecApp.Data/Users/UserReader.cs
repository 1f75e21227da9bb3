using Npgsql;
using RecApp.Engine.Domain;

namespace RecApp.Data.Users;

/// <summary>The shop's own record of a user (the source database), merged with recdb's by <see cref="UserReader"/>.</summary>
public interface IShopUserReader
{
    Task<StoredUser> ReadUserAsync(long userId, int recent, CancellationToken cancellationToken);
}

/// <summary>A user as scoring reads them, and whether any database has their demographics row.</summary>
public sealed record KnownUser(UserHistory History, Demographics Demographics, bool Known);

/// <summary>
/// A user as scoring needs them, read fresh per call in one round trip per database: the <c>recent</c> newest events
/// (index <c>ix_interactions_user_recent</c>) and their demographics. Every item they ever interacted with is those
/// events' items, or, for a user with more events, a second read (an index-only scan of the same index). So an
/// interaction recorded a second ago already shapes the next list and nothing the user has is recommended again. With
/// the shop's database (<see cref="IShopUserReader"/>) the same is read from it at the same time, and the two are merged
/// by the one history rule (<see cref="UserHistory.From(IEnumerable{HistoryEvent}, int, IEnumerable{long})"/>) and the
/// one demographics rule (<see cref="UserReads.Combine"/>). The API's recommender and its console read users here.
/// </summary>
public sealed class UserReader(NpgsqlDataSource dataSource, IShopUserReader? source = null)
{
    public async Task<(UserHistory History, Demographics Demographics)> ReadAsync(long userId, int recent, CancellationToken cancellationToken)
    {
        var user = await ReadUserAsync(userId, recent, cancellationToken);
        return (user.History, user.Demographics);
    }

    /// <summary>The same read, and whether a database has a demographics row for the user (<see cref="KnownUser.Known"/>).</summary>
    public async Task<KnownUser> ReadUserAsync(long userId, int recent, CancellationToken cancellationToken)
    {
        if (source is null)
        {
            var user = await ReadOwnAsync(userId, recent, cancellationToken);
            return new KnownUser(new UserHistory(user.Recent, user.Seen), ToDemographics(user.Demographics), user.Demographics is not null);
        }
        var shopRead = source.ReadUserAsync(userId, recent, cancellationToken);
        var ownRead = ReadOwnAsync(userId, recent, cancellationToken);
        await Task.WhenAll(shopRead, ownRead);
        var (shop, own) = (await shopRead, await ownRead);
        var merged = UserHistory.From(shop.Recent.Concat(own.Recent), recent, shop.Seen.Concat(own.Seen));
        var demographics = UserReads.Combine(shop.Demographics, own.Demographics);
        return new KnownUser(merged, ToDemographics(demographics), demographics is not null);
    }

    private static Demographics ToDemographics(UserDemographics? user) =>
        user is null ? new Demographics() : new(user.Gender, user.AgeGroup, user.GeoId);

    /// <summary>The user as <c>recdb</c> has them (demographics null when it has no row).</summary>
    private async Task<StoredUser> ReadOwnAsync(long userId, int recent, CancellationToken cancellationToken)
    {
        await using var batch = dataSource.CreateBatch();
        // The order UserHistory.From uses, so the API and the offline evaluator weigh the same events.
        var history = new NpgsqlBatchCommand("""
            SELECT item_id, type, value, occurred_at FROM interactions WHERE user_id = $1
            ORDER BY occurred_at DESC, item_id DESC, type DESC LIMIT $2
            """);
        history.Parameters.Add(new() { Value = userId });
        history.Parameters.Add(new() { Value = recent });
        var user = new NpgsqlBatchCommand("SELECT gender, age_group, geo_id FROM users WHERE id = $1");
        user.Parameters.Add(new() { Value = userId });
        batch.BatchCommands.Add(history);
        batch.BatchCommands.Add(user);

        return await UserReads.ReadOneAsync(batch, userId, recent, static reader => (InteractionType)reader.GetInt16(1),
            () => UserReads.ForUser(dataSource, "SELECT DISTINCT item_id FROM interactions WHERE user_id = $1", userId),
            cancellationToken);
    }
}
