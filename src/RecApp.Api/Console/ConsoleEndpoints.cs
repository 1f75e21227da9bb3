using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using RecApp.Api.Admin;
using RecApp.Api.Experiments;
using RecApp.Api.Recommendations;
using RecApp.Api.Validation;
using RecApp.Engine.Domain;
using RecApp.Engine;
using RecApp.Engine.Model;
using RecApp.Engine.Embeddings;
using RecApp.Api.Model;
using RecApp.Engine.Scoring;

using RecApp.Data.Experiments;
using RecApp.Data.Interactions;
using RecApp.Data.Jobs;
using RecApp.Data.Models;
using RecApp.Data.Users;

namespace RecApp.Api.Console;

/// <summary>
/// What the console reads beyond <c>/stats</c> and <c>/admin/experiments</c>: job history, cache hit rates over time,
/// a user as the engine sees them, an item with its neighbors. Under <c>/admin/console</c>, behind the admin key.
/// </summary>
public static class ConsoleEndpoints
{
    private const int HistoryRows = 50;
    private const int JobRuns = 30;
    private const int ListHead = 20;

    internal static RouteGroupBuilder MapConsoleApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/admin/console").WithTags("Console")
            .RequireAuthorization(AdminKey.Policy)
            .RequireRateLimiting(ClientRateLimiting.Policy)
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status403Forbidden);

        group.MapGet("/jobs", JobsAsync).WithSummary("The 30 most recent job runs with their durations, newest first.");
        group.MapGet("/cache-history", (CacheHistory history) =>
                TypedResults.Ok(new CacheHistoryResponse((int)CacheHistory.SampleInterval.TotalSeconds, history.Read())))
            .WithSummary("This instance's cache reads per tier (L1, L2, misses), sampled every 10 s over the last hour.");
        group.MapGet("/users/{id}", UserAsync)
            .ProducesValidationProblem()
            .WithSummary("A user's recent history, interaction count, tier, demographics, experiment arm and current recommendations with scores.");
        group.MapGet("/items/{id}", ItemAsync)
            .ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status404NotFound)
            .WithSummary("An item from the in-process catalog, its popularity rank and its similar items with scores.");
        return group;
    }

    private static async Task<Ok<JobHistoryResponse>> JobsAsync(JobRunStore jobRuns, CancellationToken cancellationToken) =>
        TypedResults.Ok(new JobHistoryResponse([.. (await jobRuns.RecentAsync(JobRuns, cancellationToken)).Select(r =>
            new JobRunRow(r.Id, r.Job, r.Status, r.StartedAt, r.FinishedAt, r.DurationMs, r.RowCount, r.ModelVersion, r.Error))]));

    private static async Task<Ok<UserExplorerResponse>> UserAsync(
        [PositiveId] long id, UserReader users, InteractionStore interactions, RankedListCache lists, IGlobalModel model,
        IOptions<RecommendationOptions> engine, IRecommender baseline, ExperimentCatalog experiments,
        VariantRecommenders variants, CancellationToken cancellationToken)
    {
        // The user as the recommender reads them (the source database included), and the engine's one tier rule.
        var user = await users.ReadUserAsync(id, engine.Value.History.RecentEvents, cancellationToken);
        var count = await interactions.CountForUserAsync(id, cancellationToken);
        var snapshot = model.Current; // once: the history titles and the list below see the same model
        var catalog = snapshot.Catalog;
        var history = user.History.Recent.Take(HistoryRows).Select(e =>
        {
            var item = catalog.Find(e.ItemId);
            return new HistoryRow(e.ItemId, item?.Title, item?.Category, e.Type.ToWireName(), e.Value, e.OccurredAt);
        }).ToArray();
        var distinct = user.History.Seen.Count;

        // Read through the cache exactly as /personalized does (same key, same arm), but nothing is recorded as an
        // exposure: an operator looking is not the user being shown.
        var served = await lists.ForUserAsync(snapshot, id, RecommendationFilters.None, cancellationToken);
        var list = served.List;
        var head = await HeadAsync(list, served.Arm?.Recommender ?? baseline, snapshot, id, cancellationToken);

        // With an experiment running: what every variant's engine would give this user, side by side (not cached).
        var arms = new List<VariantRecommendations>();
        if (experiments.Running.FirstOrDefault(e => e.Surface == ExperimentSurface.Personalized) is { } experiment)
        {
            var own = ExperimentAssignment.Assign(experiment, id).Name;
            foreach (var variant in experiment.Variants)
            {
                var recommender = variants.For(experiment, variant);
                var variantList = await recommender.ForUserAsync(snapshot, id, RecommendationFilters.None, cancellationToken);
                arms.Add(new VariantRecommendations(variant.Name, experiment.Name + "_" + variant.Name, variant.Name == own,
                    variantList.Algorithm.ToWireName(), await HeadAsync(variantList, recommender, snapshot, id, cancellationToken)));
            }
        }
        return TypedResults.Ok(new UserExplorerResponse(
            id, user.Known, user.Demographics.Gender, user.Demographics.AgeGroup, user.Demographics.GeoId, count, distinct,
            UserTier.Of(distinct).ToWireName(),
            $"distinct items the user ever interacted with: 0 → popular, 1–{UserTier.CollaborativeFrom - 1} → content, {UserTier.CollaborativeFrom}+ → collaborative",
            history, served.Arm?.Label,
            new UserRecommendations(list.Algorithm.ToWireName(), list.ModelVersion, served.CacheHit, list.ItemIds.Length, head),
            [.. arms]));
    }

    /// <summary>The head of a user's list with each item's score split by source, as the engine that made it explains it.</summary>
    private static async Task<ScoredItem[]> HeadAsync(
        RankedList list, IRecommender recommender, ModelSnapshot snapshot, long userId, CancellationToken cancellationToken)
    {
        var sources = await recommender.ExplainSourcesAsync(snapshot, userId, cancellationToken);
        var head = new List<ScoredItem>(ListHead);
        for (var i = 0; i < list.ItemIds.Length && head.Count < ListHead; i++)
        {
            var item = snapshot.Catalog.Find(list.ItemIds[i]);
            head.Add(new ScoredItem(i + 1, list.ItemIds[i], item?.Title, item?.Category, item?.Price, list.Scores[i],
                sources.GetValueOrDefault(list.ItemIds[i]) is { Length: > 0 } known
                    ? known
                    : [new SourceContribution(ScoringEngine.PopularFill, list.Scores[i])]));
        }
        return [.. head];
    }

    private static async Task<Results<Ok<ItemExplorerResponse>, ProblemHttpResult>> ItemAsync(
        [PositiveId] long id, InteractionStore interactions, RankedListCache lists, IGlobalModel model, CancellationToken cancellationToken)
    {
        var snapshot = model.Current;
        if (snapshot.Catalog.Find(id) is not { } item)
        {
            return Problems.NotFound("id", $"Item {id} is not in the catalog.");
        }
        var overall = snapshot.Popularity.Lists.GetValueOrDefault(new Demographics()) ?? ScoredIds.Empty;
        var inCategory = snapshot.Popularity.Lists.GetValueOrDefault(new Demographics(Category: item.Category)) ?? ScoredIds.Empty;

        ScoredItem[] similar = [];
        if (snapshot.Has(ModelParts.ItemNeighbors.Name))
        {
            var list = (await lists.SimilarAsync(snapshot, id, cancellationToken)).List;
            similar = [.. list.ItemIds.Take(ListHead).Select((neighbor, i) =>
            {
                var found = snapshot.Catalog.Find(neighbor);
                return new ScoredItem(i + 1, neighbor, found?.Title, found?.Category, found?.Price, list.Scores[i]);
            })];
        }

        var (events, eventUsers) = await interactions.CountForItemAsync(id, cancellationToken);
        return TypedResults.Ok(new ItemExplorerResponse(
            item.Id, item.Title, item.Category, item.Tags, item.Price, item.GeoId, item.Active, item.CreatedAt,
            RankOf(overall, id), RankOf(inCategory, id), overall.Ids.Length, events, eventUsers, similar));
    }

    private static int? RankOf(ScoredIds list, long id) => Array.IndexOf(list.Ids, id) is var at and >= 0 ? at + 1 : null;
}
