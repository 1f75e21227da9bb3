using System.Net;
using System.Text.Json;
using Aspire.Hosting.ApplicationModel;
using Aspire.Hosting.Testing;

namespace RecApp.Tests.AppHost;

/// <summary>
/// The whole application started by the AppHost: PostgreSQL and Redis containers, the Refresher and two API replicas.
/// Needs Docker and the Aspire packages, so it is compiled only with <c>-p:WithAspire=true</c> (docs/aspire.md).
/// </summary>
[Trait("Category", "Aspire")]
public sealed class AppHostHealthTests
{
    // The first run pulls the postgres and redis images.
    private static readonly TimeSpan StartTimeout = TimeSpan.FromMinutes(5);

    [Fact]
    public async Task Api_started_by_the_AppHost_reports_both_dependencies_healthy()
    {
        using var timeout = new CancellationTokenSource(StartTimeout);
        await using var appHost =
            await DistributedApplicationTestingBuilder.CreateAsync<Projects.RecApp_AppHost>(timeout.Token);
        appHost.Configuration["Parameters:admin-api-key"] = "aspire-test-admin-key"; // a secret has no default
        RemoveDataVolumes(appHost); // a throwaway database, not the developer's volume (made with another password)

        await using var app = await appHost.BuildAsync(timeout.Token);
        await app.StartAsync(timeout.Token);
        await app.ResourceNotifications.WaitForResourceHealthyAsync(
            "api", WaitBehavior.StopOnResourceUnavailable, timeout.Token);

        using var client = app.CreateHttpClient("api");
        using var response = await client.GetAsync("/health", timeout.Token);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync(timeout.Token));
        Assert.Equal("Healthy", body.RootElement.GetProperty("status").GetString());
        var entries = body.RootElement.GetProperty("entries");
        Assert.Equal("Healthy", entries.GetProperty("recdb").GetProperty("status").GetString());
        Assert.Equal("Healthy", entries.GetProperty("redis").GetProperty("status").GetString());
    }

    private static void RemoveDataVolumes(IDistributedApplicationTestingBuilder appHost)
    {
        foreach (var container in appHost.Resources.OfType<ContainerResource>())
        {
            var volumes = container.Annotations.OfType<ContainerMountAnnotation>()
                .Where(mount => mount.Type == ContainerMountType.Volume)
                .ToList();
            foreach (var volume in volumes)
            {
                container.Annotations.Remove(volume);
            }
        }
    }
}
