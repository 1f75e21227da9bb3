using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using RecApp.Engine;
using RecApp.Engine.Domain;
using RecApp.Engine.Model;
using RecApp.Engine.Scoring;
using RecApp.Data.Users;
using RecApp.Api.Model;

namespace RecApp.Api.Recommendations;

/// <summary>
/// <see cref="IRecommender"/> over the in-process global model and the user as <see cref="UserReader"/> reads them fresh
/// per call (so an interaction recorded a second ago already shapes the next list). With an <see cref="IUserReadGuard"/>
/// (the API's breaker) that read, and only it, is bounded.
/// </summary>
public sealed class Recommender(
    UserReader users, IOptions<RecommendationOptions> options, TimeProvider clock, IUserReadGuard? readGuard = null)
    : IRecommender
{
    private readonly ScoringEngine _engine = new(options.Value);

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

    public Task<RankedList> PopularAsync(ModelSnapshot snapshot, Demographics demographics, RecommendationFilters filters, CancellationToken cancellationToken) =>
        Task.FromResult(_engine.Popular(snapshot, demographics, filters, clock.GetUtcNow().UtcDateTime));

    public Task<RankedList?> SimilarAsync(ModelSnapshot snapshot, long itemId, CancellationToken cancellationToken) =>
        Task.FromResult(_engine.Similar(snapshot, itemId));

    private Task<(UserHistory History, Demographics Demographics)> ReadUserAsync(long userId, CancellationToken cancellationToken) =>
        users.ReadAsync(userId, options.Value.History.RecentEvents, cancellationToken);
}

public static class ScoringServiceCollectionExtensions
{
    /// <summary>
    /// <see cref="IRecommender"/> and the global model it reads (<see cref="IGlobalModel"/>, loaded at start-up and
    /// polled every <c>Recommendations:Store:SnapshotPollInterval</c>). Needs an NpgsqlDataSource.
    /// </summary>
    public static IServiceCollection AddRecommender(this IServiceCollection services)
    {
        services.AddGlobalModel();
        services.TryAddSingleton<UserReader>();
        services.TryAddSingleton<IRecommender, Recommender>();
        return services;
    }
}
