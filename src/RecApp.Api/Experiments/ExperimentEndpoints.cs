using System.ComponentModel.DataAnnotations;
using System.Security.Cryptography;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Caching.Hybrid;
using RecApp.Api.Admin;
using RecApp.Data.Experiments;

namespace RecApp.Api.Experiments;

/// <summary>Operators create, start, stop and read experiments under <c>/admin/experiments</c> (admin key).</summary>
public static class ExperimentEndpoints
{
    public static IEndpointRouteBuilder MapExperimentEndpoints(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/admin/experiments").WithTags("Experiments")
            .RequireAuthorization(AdminKey.Policy)
            .RequireRateLimiting(Validation.ClientRateLimiting.Policy)
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status403Forbidden);

        group.MapPost("", CreateAsync)
            .ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status409Conflict)
            .WithSummary("Creates a draft experiment: a name, a surface, and variants with traffic shares and setting changes.");
        group.MapGet("", ListAsync).WithSummary("Every experiment, newest first.");
        group.MapGet("/{name}", GetAsync)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .WithSummary("An experiment with its results per variant (CTR, conversion, confidence intervals, tests, winner).");
        group.MapPost("/{name}/start", StartAsync)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict)
            .WithSummary("Starts an experiment; at most one runs per surface.");
        group.MapPost("/{name}/stop", StopAsync)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .WithSummary("Stops a running experiment; its results stay readable.");
        return app;
    }

    private static async Task<Results<Created<ExperimentResponse>, ValidationProblem, ProblemHttpResult>> CreateAsync(
        ExperimentRequest request, ExperimentStore store, CancellationToken cancellationToken)
    {
        var errors = new List<ValidationResult>();
        if (!Validator.TryValidateObject(request, new ValidationContext(request), errors, validateAllProperties: true))
        {
            return TypedResults.ValidationProblem(errors
                .SelectMany(e => e.MemberNames.DefaultIfEmpty("").Select(m => (Member: m, e.ErrorMessage)))
                .GroupBy(e => e.Member)
                .ToDictionary(g => g.Key, g => g.Select(e => e.ErrorMessage ?? "Invalid.").ToArray()));
        }
        var experiment = new ExperimentDefinition(
            request.Name!,
            Enum.Parse<ExperimentSurface>(request.Surface!, ignoreCase: true),
            Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8)),
            [.. request.Variants!.Select(v => new ExperimentVariant(v.Name!, v.Share!.Value, v.Settings ?? []))],
            ExperimentStatus.Draft, DateTimeOffset.UtcNow, null, null);
        if (!await store.CreateAsync(experiment, cancellationToken))
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status409Conflict, title: "The experiment exists.",
                detail: $"An experiment named '{experiment.Name}' already exists.");
        }
        var stored = await store.GetAsync(experiment.Name, cancellationToken);
        return TypedResults.Created($"/admin/experiments/{experiment.Name}", ExperimentResponse.From(stored!));
    }

    private static async Task<Ok<ExperimentResponse[]>> ListAsync(ExperimentStore store, CancellationToken cancellationToken) =>
        TypedResults.Ok((await store.ListAsync(cancellationToken)).Select(e => ExperimentResponse.From(e)).ToArray());

    private static async Task<Results<Ok<ExperimentResponse>, ProblemHttpResult>> GetAsync(
        string name, ExperimentStore store, CancellationToken cancellationToken)
    {
        var experiment = await store.GetAsync(name, cancellationToken);
        if (experiment is null)
        {
            return NotFound(name);
        }
        var outcomes = await store.OutcomesAsync(name, ExperimentAnalysis.AttributionWindow, cancellationToken);
        return TypedResults.Ok(ExperimentResponse.From(experiment, ExperimentAnalysis.Analyze(experiment, outcomes)));
    }

    private static async Task<Results<Ok<ExperimentResponse>, ProblemHttpResult>> StartAsync(
        string name, ExperimentStore store, ExperimentCatalog catalog, HybridCache cache, CancellationToken cancellationToken)
    {
        try
        {
            var started = await store.StartAsync(name, cancellationToken);
            if (started is null)
            {
                return NotFound(name);
            }
            await ChangedAsync(started, catalog, cache, cancellationToken);
            return TypedResults.Ok(ExperimentResponse.From(started));
        }
        catch (SurfaceBusyException ex)
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status409Conflict, title: "The surface is taken.",
                detail: $"{ex.Message} Stop it first: at most one experiment runs per surface.");
        }
    }

    private static async Task<Results<Ok<ExperimentResponse>, ProblemHttpResult>> StopAsync(
        string name, ExperimentStore store, ExperimentCatalog catalog, HybridCache cache, CancellationToken cancellationToken)
    {
        var stopped = await store.StopAsync(name, cancellationToken);
        if (stopped is null)
        {
            return await store.GetAsync(name, cancellationToken) is { } existing
                ? TypedResults.Ok(ExperimentResponse.From(existing)) // already stopped or never started: nothing to do
                : NotFound(name);
        }
        await ChangedAsync(stopped, catalog, cache, cancellationToken);
        return TypedResults.Ok(ExperimentResponse.From(stopped));
    }

    /// <summary>Every instance serves the change at once, and exactly the experiment's lists are evicted everywhere.</summary>
    private static async Task ChangedAsync(ExperimentDefinition experiment, ExperimentCatalog catalog, HybridCache cache, CancellationToken cancellationToken)
    {
        await catalog.ChangedAsync(experiment.Name, cancellationToken);
        await cache.RemoveByTagAsync(ExperimentCatalog.Tag(experiment.Name), CancellationToken.None);
    }

    private static ProblemHttpResult NotFound(string name) => TypedResults.Problem(
        statusCode: StatusCodes.Status404NotFound, title: "Experiment not found.", detail: $"No experiment is named '{name}'.",
        extensions: new Dictionary<string, object?> { ["field"] = "name" });
}
