using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using Npgsql;
using RecApp.Api.Admin;
using RecApp.Api.Experiments;
using RecApp.Api.Recommendations;
using RecApp.Api.Validation;
using RecApp.Recommendations.Data;
using RecApp.Recommendations.Model;
using RecApp.Recommendations.Scoring;

namespace RecApp.Api.Console;

/// <summary>
/// What the console reads beyond <c>/stats</c> and <c>/admin/experiments</c>: job history, cache hit rates over time,
/// a user as the engine sees them, an item with its neighbors. Under <c>/admin/console</c>, behind the admin key.
/// </summary>
public static class ConsoleEndpoints
{
    private const int HistoryRows = 50;
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

    private static async Task<Ok<JobHistoryResponse>> JobsAsync(NpgsqlDataSource dataSource, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("""
            SELECT id, job, status, started_at, finished_at, duration_ms, row_count, model_version, error
            FROM job_runs ORDER BY started_at DESC, id DESC LIMIT 30
            """);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var runs = new List<JobRunRow>();
        while (await reader.ReadAsync(cancellationToken))
        {
            runs.Add(new JobRunRow(
                reader.GetInt64(0), reader.GetString(1), reader.GetString(2), reader.GetDateTime(3),
                reader.IsDBNull(4) ? null : reader.GetDateTime(4),
                reader.IsDBNull(5) ? null : reader.GetInt64(5),
                reader.IsDBNull(6) ? null : reader.GetInt64(6),
                reader.IsDBNull(7) ? null : reader.GetInt64(7),
                reader.IsDBNull(8) ? null : reader.GetString(8)));
        }
        return TypedResults.Ok(new JobHistoryResponse([.. runs]));
    }

    private static async Task<Ok<UserExplorerResponse>> UserAsync(
        [PositiveId] long id, NpgsqlDataSource dataSource, RankedListCache lists, IGlobalModel model,
        IOptions<RecommendationOptions> engine, IRecommender baseline, ExperimentCatalog experiments,
        VariantRecommenders variants, CancellationToken cancellationToken)
    {
        // The tier is the engine's rule over the same window it reads: distinct items among the recent events.
        await using var batch = dataSource.CreateBatch();
        batch.BatchCommands.Add(Command("SELECT gender, age_group, geo_id FROM users WHERE id = $1", id));
        batch.BatchCommands.Add(Command("SELECT count(*) FROM interactions WHERE user_id = $1", id));
        batch.BatchCommands.Add(Command("""
            SELECT count(DISTINCT item_id)::int
            FROM (SELECT item_id FROM interactions WHERE user_id = $1 ORDER BY occurred_at DESC LIMIT $2) AS recent
            """, id, engine.Value.RecentHistory));
        batch.BatchCommands.Add(Command(
            "SELECT item_id, type, value, occurred_at FROM interactions WHERE user_id = $1 ORDER BY occurred_at DESC, id DESC LIMIT $2",
            id, HistoryRows));

        var snapshot = model.Current; // once: the history titles and the list below see the same model
        var catalog = snapshot.Catalog;
        (bool Known, string? Gender, string? AgeGroup, int? GeoId) user = (false, null, null, null);
        long count;
        int distinct;
        var history = new List<HistoryRow>();
        await using (var reader = await batch.ExecuteReaderAsync(cancellationToken))
        {
            if (await reader.ReadAsync(cancellationToken))
            {
                user = (true, reader.IsDBNull(0) ? null : reader.GetString(0), reader.IsDBNull(1) ? null : reader.GetString(1),
                    reader.IsDBNull(2) ? null : reader.GetInt32(2));
            }
            await reader.NextResultAsync(cancellationToken);
            await reader.ReadAsync(cancellationToken);
            count = reader.GetInt64(0);
            await reader.NextResultAsync(cancellationToken);
            await reader.ReadAsync(cancellationToken);
            distinct = reader.GetInt32(0);
            await reader.NextResultAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                var item = catalog.Find(reader.GetInt64(0));
                history.Add(new HistoryRow(
                    reader.GetInt64(0), item?.Title, item?.Category, ((InteractionType)reader.GetInt16(1)).ToWireName(),
                    reader.IsDBNull(2) ? null : reader.GetFloat(2), reader.GetDateTime(3)));
            }
        }

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
                    Name(variantList.Algorithm), await HeadAsync(variantList, recommender, snapshot, id, cancellationToken)));
            }
        }
        var tier = distinct switch
        {
            0 => RecommendationAlgorithm.Popular,
            <= 2 => RecommendationAlgorithm.Content,
            _ => RecommendationAlgorithm.Collaborative,
        };
        return TypedResults.Ok(new UserExplorerResponse(
            id, user.Known, user.Gender, user.AgeGroup, user.GeoId, count, distinct, Name(tier),
            $"distinct items among the last {engine.Value.RecentHistory} events: 0 → popular, 1–2 → content, 3+ → collaborative",
            [.. history], served.Arm?.Label,
            new UserRecommendations(Name(list.Algorithm), list.ModelVersion, served.CacheHit, list.ItemIds.Length, head),
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
        [PositiveId] long id, NpgsqlDataSource dataSource, RankedListCache lists, IGlobalModel model, CancellationToken cancellationToken)
    {
        var snapshot = model.Current;
        if (snapshot.Catalog.Find(id) is not { } item)
        {
            return Problems.NotFound("id", $"Item {id} is not in the catalog.");
        }
        var overall = snapshot.Popularity.Lists.GetValueOrDefault(new Segment()) ?? ScoredIds.Empty;
        var inCategory = snapshot.Popularity.Lists.GetValueOrDefault(new Segment(Category: item.Category)) ?? ScoredIds.Empty;

        ScoredItem[] similar = [];
        if (snapshot.Has(ModelParts.ItemNeighbors))
        {
            var list = (await lists.SimilarAsync(snapshot, id, cancellationToken)).List;
            similar = [.. list.ItemIds.Take(ListHead).Select((neighbor, i) =>
            {
                var found = snapshot.Catalog.Find(neighbor);
                return new ScoredItem(i + 1, neighbor, found?.Title, found?.Category, found?.Price, list.Scores[i]);
            })];
        }

        await using var command = dataSource.CreateCommand("SELECT count(*), count(DISTINCT user_id) FROM interactions WHERE item_id = $1");
        command.Parameters.Add(new NpgsqlParameter { Value = id });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        await reader.ReadAsync(cancellationToken);
        return TypedResults.Ok(new ItemExplorerResponse(
            item.Id, item.Title, item.Category, item.Tags, item.Price, item.GeoId, item.Active, item.CreatedAt,
            RankOf(overall, id), RankOf(inCategory, id), overall.Ids.Length, reader.GetInt64(0), reader.GetInt64(1), similar));
    }

    private static int? RankOf(ScoredIds list, long id) => Array.IndexOf(list.Ids, id) is var at and >= 0 ? at + 1 : null;

    private static string Name(RecommendationAlgorithm algorithm) => algorithm.ToString().ToLowerInvariant();

    private static NpgsqlBatchCommand Command(string sql, params object[] values)
    {
        var command = new NpgsqlBatchCommand(sql);
        foreach (var value in values)
        {
            command.Parameters.Add(new NpgsqlParameter { Value = value });
        }
        return command;
    }
}
