using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Npgsql;
using RecApp.Recommendations.Data;
using RecApp.Recommendations.Model;

namespace RecApp.Recommendations.Scoring;

/// <summary>
/// <see cref="IRecommender"/> over the in-process global model. Per call it reads, in one round trip, the user's
/// <see cref="RecommendationOptions.RecentHistory"/> most recent events (index <c>ix_interactions_user_recent</c>), every
/// item they ever interacted with (an index-only scan of the same index) and their demographics, so an interaction
/// recorded a second ago already shapes the next list and nothing the user has is recommended again. With a
/// <see cref="SourceDatabase"/> the same is read from it too, at the same time, and the two are merged by the one
/// history rule (<see cref="UserHistory.From(IEnumerable{HistoryEvent}, int, IEnumerable{long})"/>) and the one
/// demographics rule (<see cref="SourceDatabase.Combine"/>). With an <see cref="IUserReadGuard"/> (the API's breaker)
/// that read, and only it, is bounded.
/// </summary>
public sealed class Recommender(
    NpgsqlDataSource dataSource, IGlobalModel model, IOptions<RecommendationOptions> options, TimeProvider clock,
    SourceDatabase? source = null, IUserReadGuard? readGuard = null)
    : IRecommender
{
    private readonly ScoringEngine _engine = new(options.Value);

    public Task<RankedList> ForUserAsync(long userId, RecommendationFilters filters, CancellationToken cancellationToken) =>
        ForUserAsync(model.Current, userId, filters, cancellationToken);

    public async Task<RankedList> ForUserAsync(ModelSnapshot snapshot, long userId, RecommendationFilters filters, CancellationToken cancellationToken)
    {
        var (history, demographics) = readGuard is null
            ? await ReadUserAsync(userId, cancellationToken)
            : await readGuard.ExecuteAsync((Recommender: this, UserId: userId),
                static async (s, ct) => await s.Recommender.ReadUserAsync(s.UserId, ct), cancellationToken);
        return _engine.ForUser(snapshot, userId, history, demographics, filters, clock.GetUtcNow().UtcDateTime);
    }

    public async Task<IReadOnlyDictionary<long, SourceContribution[]>> ExplainSourcesAsync(
        ModelSnapshot snapshot, long userId, CancellationToken cancellationToken)
    {
        var (history, demographics) = await ReadUserAsync(userId, cancellationToken);
        return _engine.ExplainSources(snapshot, userId, history, demographics, RecommendationFilters.None, clock.GetUtcNow().UtcDateTime);
    }

    public Task<RankedList> PopularAsync(Demographics demographics, RecommendationFilters filters, CancellationToken cancellationToken) =>
        PopularAsync(model.Current, demographics, filters, cancellationToken);

    public Task<RankedList> PopularAsync(ModelSnapshot snapshot, Demographics demographics, RecommendationFilters filters, CancellationToken cancellationToken) =>
        Task.FromResult(_engine.Popular(snapshot, demographics, filters, clock.GetUtcNow().UtcDateTime));

    public Task<RankedList?> SimilarAsync(long itemId, CancellationToken cancellationToken) =>
        SimilarAsync(model.Current, itemId, cancellationToken);

    public Task<RankedList?> SimilarAsync(ModelSnapshot snapshot, long itemId, CancellationToken cancellationToken) =>
        Task.FromResult(_engine.Similar(snapshot, itemId));

    private async Task<(UserHistory History, Demographics Demographics)> ReadUserAsync(long userId, CancellationToken cancellationToken)
    {
        if (source is null)
        {
            var user = await ReadOwnUserAsync(userId, cancellationToken);
            return (new UserHistory(user.Recent, user.Seen), ToDemographics(user.Demographics));
        }
        var shopRead = source.ReadUserAsync(userId, options.Value.RecentHistory, cancellationToken);
        var ownRead = ReadOwnUserAsync(userId, cancellationToken);
        await Task.WhenAll(shopRead, ownRead);
        var (shop, own) = (await shopRead, await ownRead);
        var merged = UserHistory.From(shop.Recent.Concat(own.Recent), options.Value.RecentHistory, shop.Seen.Concat(own.Seen));
        return (merged, ToDemographics(SourceDatabase.Combine(shop.Demographics, own.Demographics)));
    }

    private static Demographics ToDemographics(UserDemographics? user) =>
        user is null ? new Demographics() : new(user.Gender, user.AgeGroup, user.GeoId);

    /// <summary>The user as <c>recdb</c> has them (demographics null when it has no row).</summary>
    private async Task<StoredUser> ReadOwnUserAsync(long userId, CancellationToken cancellationToken)
    {
        await using var batch = dataSource.CreateBatch();
        // The order UserHistory.From uses, so the API and the offline evaluator weigh the same events.
        var history = new NpgsqlBatchCommand("""
            SELECT item_id, type, value, occurred_at FROM interactions WHERE user_id = $1
            ORDER BY occurred_at DESC, item_id DESC, type DESC LIMIT $2
            """);
        history.Parameters.Add(new() { Value = userId });
        history.Parameters.Add(new() { Value = options.Value.RecentHistory });
        var seen = new NpgsqlBatchCommand("SELECT DISTINCT item_id FROM interactions WHERE user_id = $1");
        seen.Parameters.Add(new() { Value = userId });
        var user = new NpgsqlBatchCommand("SELECT gender, age_group, geo_id FROM users WHERE id = $1");
        user.Parameters.Add(new() { Value = userId });
        batch.BatchCommands.Add(history);
        batch.BatchCommands.Add(seen);
        batch.BatchCommands.Add(user);

        return await UserReads.ReadOneAsync(batch, userId, static reader => (InteractionType)reader.GetInt16(1), cancellationToken);
    }
}

public static class ScoringServiceCollectionExtensions
{
    /// <summary>
    /// <see cref="IRecommender"/> and the global model it reads (<see cref="IGlobalModel"/>, loaded at start-up and
    /// polled every <c>Recommendations:SnapshotPollInterval</c>). Needs an NpgsqlDataSource.
    /// </summary>
    public static IServiceCollection AddRecommender(this IServiceCollection services)
    {
        services.AddGlobalModel();
        services.TryAddSingleton<IRecommender, Recommender>();
        return services;
    }
}
