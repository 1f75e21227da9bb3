using System.Diagnostics;
using Aspire.Hosting.ApplicationModel;
using Aspire.Hosting.Testing;

namespace RecApp.AppHost.Tests;

/// <summary>The application model each <c>Infrastructure:Mode</c> produces (built, not started).</summary>
public sealed class InfrastructureModeTests
{
    [Fact]
    public async Task Containers_mode_models_the_postgres_container_with_a_volume_and_the_redis_container()
    {
        await using var appHost = await CreateAsync("Containers");

        var postgres = Resource(appHost, "postgres");
        Assert.IsAssignableFrom<ContainerResource>(postgres);
        Assert.Contains(postgres.Annotations.OfType<ContainerMountAnnotation>(), mount => mount.Type == ContainerMountType.Volume);
        Assert.IsAssignableFrom<ContainerResource>(Resource(appHost, "redis"));
        Assert.IsAssignableFrom<IResourceWithConnectionString>(Resource(appHost, "recdb"));
        AssertServicesReceiveTheSameConnectionStrings(appHost);
    }

    [Fact]
    public async Task LocalProcesses_mode_models_executables_with_endpoints_health_checks_and_the_same_connection_strings()
    {
        await using var appHost = await CreateAsync("LocalProcesses");

        foreach (var name in new[] { "postgres", "redis" })
        {
            var server = Resource(appHost, name);
            Assert.IsAssignableFrom<ExecutableResource>(server);
            Assert.IsAssignableFrom<IResourceWithConnectionString>(server);
            Assert.Single(server.Annotations.OfType<EndpointAnnotation>(), endpoint => endpoint.Name == "tcp");
            Assert.NotEmpty(server.Annotations.OfType<HealthCheckAnnotation>());
        }
        Assert.IsAssignableFrom<IResourceWithConnectionString>(Resource(appHost, "recdb"));
        AssertServicesReceiveTheSameConnectionStrings(appHost);
    }

    [Fact]
    public async Task Auto_mode_uses_containers_only_when_the_container_runtime_answers()
    {
        await using var appHost = await CreateAsync("Auto");

        var expectContainers = DockerInfoSucceeds();
        Assert.Equal(expectContainers, Resource(appHost, "postgres") is ContainerResource);
        Assert.Equal(!expectContainers, Resource(appHost, "postgres") is ExecutableResource);
    }

    [Fact]
    public async Task An_unknown_mode_fails_start_up_naming_the_setting()
    {
        var error = await Assert.ThrowsAnyAsync<Exception>(() => CreateAsync("Kubernetes"));

        var message = error is AggregateException aggregate ? aggregate.Flatten().InnerExceptions[0].Message : error.Message;
        Assert.Contains("Infrastructure:Mode", message);
        Assert.Contains("Kubernetes", message);
    }

    private static async Task<IDistributedApplicationTestingBuilder> CreateAsync(string mode)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(1));
        return await DistributedApplicationTestingBuilder.CreateAsync<Projects.RecApp_AppHost>(
            [$"--Infrastructure:Mode={mode}", $"--Parameters:admin-api-key={RunningApplication.AdminKey}"], timeout.Token);
    }

    private static IResource Resource(IDistributedApplicationTestingBuilder appHost, string name) =>
        Assert.Single(appHost.Resources, resource => resource.Name == name);

    /// <summary>Every service references <c>recdb</c>, the API and the Refresher also <c>redis</c>, by those names.</summary>
    private static void AssertServicesReceiveTheSameConnectionStrings(IDistributedApplicationTestingBuilder appHost)
    {
        foreach (var (service, expected) in new[] { ("migrations", new[] { "recdb" }), ("refresher", ["recdb", "redis"]), ("api", ["recdb", "redis"]) })
        {
            var referenced = Resource(appHost, service).Annotations.OfType<ResourceRelationshipAnnotation>()
                .Where(relationship => relationship.Type == "Reference")
                .Select(relationship => relationship.Resource.Name)
                .ToHashSet();
            Assert.Superset(expected.ToHashSet(), referenced);
        }
    }

    private static bool DockerInfoSucceeds()
    {
        try
        {
            using var process = Process.Start(new ProcessStartInfo("docker", "info") { RedirectStandardOutput = true, RedirectStandardError = true })!;
            _ = process.StandardOutput.ReadToEndAsync();
            _ = process.StandardError.ReadToEndAsync();
            return process.WaitForExit(TimeSpan.FromSeconds(5)) && process.ExitCode == 0;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return false;
        }
    }
}
