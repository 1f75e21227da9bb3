using Aspire.Hosting;
using Aspire.Hosting.ApplicationModel;
using Aspire.Hosting.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Logging;

namespace RecApp.AppHost.Tests;

/// <summary>
/// The real AppHost, started once for the collection: local-process PostgreSQL and Redis with a throwaway data
/// folder, the tiny demo data, the migration step, the Refresher and two API replicas. Ready when every resource is
/// healthy (the migration step: finished with exit code 0) and every replica serves the Refresher's whole start-up model.
/// </summary>
public class RunningApplication : IAsyncLifetime
{
    public const string AdminKey = "aspire-test-admin-key";
    public const string Api = "api";
    public const int ApiReplicaCount = 2;

    /// <summary>A bound for start-up on a loaded 2-core machine, not an expected duration.</summary>
    private static readonly TimeSpan StartTimeout = TimeSpan.FromMinutes(4);

    private DirectoryInfo? _data;

    public DistributedApplication App { get; private set; } = null!;

    /// <summary>Each API replica's own address (not the proxy's).</summary>
    public IReadOnlyList<Uri> ApiReplicas { get; private set; } = [];

    public async ValueTask InitializeAsync()
    {
        using var timeout = new CancellationTokenSource(StartTimeout);
        _data = Directory.CreateTempSubdirectory("recapp-aspire-");
        // The postgres user runs the server and must reach the cluster folder inside this (root-owned) one.
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(_data.FullName, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute |
                UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute);
        }

        var appHost = await DistributedApplicationTestingBuilder.CreateAsync<Projects.RecApp_AppHost>(
        [
            "--Infrastructure:Mode=LocalProcesses",
            $"--Infrastructure:DataDirectory={_data.FullName}",
            "--Parameters:demo-data-size=tiny",
            $"--Parameters:admin-api-key={AdminKey}",
            .. ExtraArguments,
        ], timeout.Token);
        // Health checks fail while the servers start and stop; the waits below report what stays unhealthy.
        appHost.Services.AddLogging(logging => logging.AddFilter("Microsoft.Extensions.Diagnostics.HealthChecks", LogLevel.Critical));
        App = await appHost.BuildAsync(timeout.Token);
        await App.StartAsync(timeout.Token);

        await WaitForEveryResourceAsync(timeout.Token);
        ApiReplicas = await ReplicaAddressesAsync(Api, ApiReplicaCount, timeout.Token);
        await WaitForServedModelAsync(timeout.Token);
        await WaitForProxyAsync(timeout.Token);
    }

    public async ValueTask DisposeAsync()
    {
        if (App is not null)
        {
            await App.StopAsync();
            await App.DisposeAsync();
        }
        _data?.Delete(recursive: true);
    }

    public HttpClient ClientFor(Uri replica) => new() { BaseAddress = replica };

    /// <summary>AppHost settings on top of the common ones (a variant of the application, e.g. with the sample shop).</summary>
    protected virtual IEnumerable<string> ExtraArguments => [];

    private async Task WaitForEveryResourceAsync(CancellationToken cancellationToken)
    {
        var model = App.Services.GetRequiredService<DistributedApplicationModel>();
        var notifications = App.ResourceNotifications;
        var waits = model.Resources
            // Parameters have no lifecycle; explicit-start resources (e.g. Aspire's hidden project rebuilders) never start.
            .Where(resource => resource is not ParameterResource && !resource.Annotations.OfType<ExplicitStartupAnnotation>().Any())
            .Select(async resource =>
            {
                if (resource.Name == "migrations")
                {
                    var finished = await notifications.WaitForResourceAsync(resource.Name,
                        e => KnownResourceStates.TerminalStates.Contains(e.Snapshot.State?.Text), cancellationToken);
                    Assert.True(finished.Snapshot.ExitCode == 0,
                        $"The migration step ended {finished.Snapshot.State?.Text} with exit code {finished.Snapshot.ExitCode}.");
                }
                else
                {
                    await notifications.WaitForResourceHealthyAsync(resource.Name, cancellationToken);
                }
            });
        await Task.WhenAll(waits);
    }

    /// <summary>
    /// Replicas are instances of one resource, each with its own resource id and environment; the address each
    /// one listens on is its <c>ASPNETCORE_URLS</c> (the proxy in front of them has the resource's endpoint).
    /// </summary>
    private async Task<IReadOnlyList<Uri>> ReplicaAddressesAsync(string resource, int count, CancellationToken cancellationToken)
    {
        var addresses = new Dictionary<string, Uri>();
        await foreach (var update in App.ResourceNotifications.WatchAsync(cancellationToken))
        {
            if (update.Resource.Name != resource || update.Snapshot.HealthStatus != HealthStatus.Healthy)
            {
                continue;
            }
            var urls = update.Snapshot.EnvironmentVariables.FirstOrDefault(v => v.Name == "ASPNETCORE_URLS")?.Value;
            if (urls is not null)
            {
                addresses[update.ResourceId] = new Uri(urls.Split(';')[0]);
            }
            if (addresses.Count == count)
            {
                break;
            }
        }
        return [.. addresses.Values];
    }

    /// <summary>
    /// Until the proxy in front of the replicas (the <c>api</c> resource's endpoint, what most tests call) answers
    /// <c>/health</c> with 200. Healthy replicas do not mean an accepting proxy: DCP starts it on its own schedule, and
    /// tests that went on at once were once refused a connection on a loaded machine.
    /// </summary>
    private async Task WaitForProxyAsync(CancellationToken cancellationToken)
    {
        using var client = App.CreateHttpClient(Api);
        await Poll.UntilAsync(async () =>
            {
                try
                {
                    using var response = await client.GetAsync("/health", cancellationToken);
                    return response.IsSuccessStatusCode;
                }
                catch (HttpRequestException)
                {
                    return false;
                }
            },
            "the api resource's proxy to accept connections and answer /health", cancellationToken);
    }

    /// <summary>
    /// Until every replica serves the whole model of the Refresher's start-up run: its last part (the similarities job's
    /// <c>tuning</c>) is published and the replica serves the newest published version. Tests that start earlier race
    /// with that run (a version moving between two requests is a new cache key).
    /// </summary>
    private async Task WaitForServedModelAsync(CancellationToken cancellationToken)
    {
        foreach (var replica in ApiReplicas)
        {
            using var client = ClientFor(replica);
            await Poll.UntilAsync(async () =>
                {
                    var stats = await ApiJson.StatsAsync(client);
                    return stats.PartVersions.ContainsKey("tuning") && stats.ServingVersion == stats.PartVersions.Values.Max();
                },
                "the API to serve the whole model of the Refresher's start-up run", cancellationToken);
        }
    }
}

[CollectionDefinition(Name)]
public sealed class RunningApplicationCollection : ICollectionFixture<RunningApplication>
{
    public const string Name = "running application";
}
