namespace RecApp.Api.Stats;

public static class StatsEndpoints
{
    public static IEndpointRouteBuilder MapStatsEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapGet("/stats", async (StatsReader stats, CancellationToken cancellationToken) =>
                TypedResults.Ok(await stats.ReadAsync(cancellationToken)))
            .WithTags("Stats")
            .RequireRateLimiting(Validation.ClientRateLimiting.Policy)
            .WithSummary("Data counts, model versions, last job runs, cache figures and the effective configuration.");
        return app;
    }
}
