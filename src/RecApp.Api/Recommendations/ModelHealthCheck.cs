using Microsoft.Extensions.Diagnostics.HealthChecks;
using RecApp.Engine.Model;
using RecApp.Engine.Training;
using RecApp.Engine.Embeddings;
using RecApp.Data;
using RecApp.Data.Models;
using RecApp.Api.Model;

namespace RecApp.Api.Recommendations;

/// <summary>
/// Ready only with a model: an instance that has not loaded one (started while PostgreSQL was down, or before the
/// first build) would answer empty lists, so it reports Unhealthy and load balancers keep traffic away from it.
/// </summary>
public sealed class ModelHealthCheck(IGlobalModel model) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var snapshot = model.Current;
        return Task.FromResult(snapshot.Version > 0
            ? HealthCheckResult.Healthy($"Model version {snapshot.Version}, {snapshot.Catalog.Count} items.")
            : new HealthCheckResult(context.Registration.FailureStatus, "No model loaded yet: the Refresher has not published one, or the database was unreachable at start-up."));
    }
}
