using System.Diagnostics;
using System.Reflection;
using System.Text.Json;
using Aspire.Hosting.ApplicationModel;
using Aspire.Hosting.Testing;

namespace RecApp.AppHost.Tests;

/// <summary>
/// The deployment manifest, written once for the class by the AppHost's manifest publisher (no container runtime
/// needed) with the command the README's Deploy section gives. What the manifest format cannot carry (the replica count,
/// the start order) is checked on the application model instead, and the manifest is checked to carry no trace of it.
/// </summary>
public sealed class ManifestTests(ManifestTests.PublishedManifest published) : IClassFixture<ManifestTests.PublishedManifest>
{
    private JsonElement Resources => published.Resources;

    [Fact]
    public void The_manifest_names_every_resource_and_wires_the_connection_strings()
    {
        var names = Resources.EnumerateObject().Select(r => r.Name).ToHashSet();
        string[] expected =
        [
            "postgres", "recdb", "redis", "migrations", "refresher", "api", "admin-api-key", "demo-data-size",
            "popular-items-refresh-minutes", "user-profiles-refresh-minutes", "similarities-refresh-minutes", "cache-cleanup-hours",
        ];
        Assert.Empty(expected.Except(names));
        Assert.Equal("container.v0", Type("postgres")); // publishing describes containers, whatever Infrastructure:Mode the machine would pick
        Assert.Equal("container.v0", Type("redis"));
        Assert.Equal("value.v0", Type("recdb"));
        Assert.Equal("{postgres.connectionString};Database=recdb", Resources.GetProperty("recdb").GetProperty("connectionString").GetString());
        foreach (var service in new[] { "api", "refresher", "migrations" })
        {
            Assert.Equal("{recdb.connectionString}", Env(service, "ConnectionStrings__recdb"));
        }
        foreach (var service in new[] { "api", "refresher" })
        {
            Assert.Equal("{redis.connectionString}", Env(service, "ConnectionStrings__redis"));
        }
    }

    /// <summary>
    /// Every <c>parameter.v0</c> in the manifest, and nothing else: the six the AppHost declares, and the two passwords
    /// <c>AddPostgres</c> and <c>AddRedis</c> declare for it. A default is either a value or a recipe azd generates from.
    /// </summary>
    [Fact]
    public void Every_parameter_is_in_the_manifest_with_its_default_and_secret_flag()
    {
        (string Name, bool Secret, string? Value, int? GenerateMinLength, bool? GenerateSpecial)[] expected =
        [
            ("admin-api-key", true, null, 32, false),
            ("popular-items-refresh-minutes", false, "15", null, null),
            ("user-profiles-refresh-minutes", false, "30", null, null),
            ("similarities-refresh-minutes", false, "60", null, null),
            ("cache-cleanup-hours", false, "6", null, null),
            ("demo-data-size", false, "S", null, null),
            ("postgres-password", true, null, 22, null), // special characters allowed: the manifest leaves the flag out
            ("redis-password", true, null, 22, false),
        ];

        var parameters = Resources.EnumerateObject().Where(r => r.Value.GetProperty("type").GetString() == "parameter.v0")
            .Select(r => r.Name).Order(StringComparer.Ordinal);
        Assert.Equal(expected.Select(p => p.Name).Order(StringComparer.Ordinal), parameters);

        foreach (var (name, secret, value, minLength, special) in expected)
        {
            var parameter = Resources.GetProperty(name);
            Assert.Equal($"{{{name}.inputs.value}}", parameter.GetProperty("value").GetString());
            var input = parameter.GetProperty("inputs").GetProperty("value");
            Assert.Equal("string", input.GetProperty("type").GetString());
            // The manifest writes "secret": true only for secrets; its absence means a plain value.
            Assert.True(secret == (input.TryGetProperty("secret", out var flag) && flag.GetBoolean()), $"{name}: secret should be {secret}");

            var @default = input.GetProperty("default");
            if (value is not null)
            {
                Assert.Equal(value, @default.GetProperty("value").GetString());
                Assert.False(@default.TryGetProperty("generate", out _), $"{name} has a fixed default, not a generated one");
            }
            else
            {
                Assert.False(@default.TryGetProperty("value", out _), $"{name} must not publish a value as its default");
                var generate = @default.GetProperty("generate");
                Assert.Equal(minLength, generate.GetProperty("minLength").GetInt32());
                Assert.Equal(special, generate.TryGetProperty("special", out var s) ? s.GetBoolean() : null);
            }
        }
    }

    [Fact]
    public void The_services_get_the_parameters_as_environment_variables()
    {
        Assert.Equal("{popular-items-refresh-minutes.value}", Env("refresher", "POPULAR_ITEMS_REFRESH_MINUTES"));
        Assert.Equal("{user-profiles-refresh-minutes.value}", Env("refresher", "USER_PROFILES_REFRESH_MINUTES"));
        Assert.Equal("{similarities-refresh-minutes.value}", Env("refresher", "SIMILARITIES_REFRESH_MINUTES"));
        Assert.Equal("{cache-cleanup-hours.value}", Env("refresher", "CACHE_CLEANUP_HOURS"));
        Assert.Equal("{demo-data-size.value}", Env("refresher", "Refresher__DemoDataSize"));
        Assert.Equal("true", Env("refresher", "Refresher__LoadDemoDataWhenEmpty")); // no source database in the default model
        Assert.Equal("{admin-api-key.value}", Env("api", "Admin__ApiKey"));

        // The admin key reaches the API alone.
        foreach (var service in new[] { "refresher", "migrations" })
        {
            Assert.DoesNotContain(Resources.GetProperty(service).GetProperty("env").EnumerateObject(),
                variable => variable.Value.GetString()!.Contains("{admin-api-key.", StringComparison.Ordinal));
        }
    }

    /// <summary>
    /// The 5080 of a local run is set in run mode only: azd refuses an external http binding with a port ("can't be
    /// mapped to main ingress because it has port … defined") and maps one without a port to the ingress's 80/443.
    /// </summary>
    [Fact]
    public void The_api_is_published_as_an_external_http_endpoint_without_a_fixed_port()
    {
        var http = Resources.GetProperty("api").GetProperty("bindings").GetProperty("http");
        Assert.Equal("http", http.GetProperty("scheme").GetString());
        Assert.Equal("tcp", http.GetProperty("protocol").GetString());
        Assert.Equal("http", http.GetProperty("transport").GetString());
        Assert.True(http.GetProperty("external").GetBoolean());
        Assert.False(http.TryGetProperty("port", out var port), $"the api's http binding has port {port} in the manifest");
        // The Refresher and the migration step listen on nothing: a deployment gives them no ingress.
        Assert.False(Resources.GetProperty("refresher").TryGetProperty("bindings", out _));
        Assert.False(Resources.GetProperty("migrations").TryGetProperty("bindings", out _));
    }

    /// <summary>
    /// Aspire 13.6's manifest writer (ManifestPublishingContext.WriteProjectAsync) writes a project as <c>type</c>,
    /// <c>path</c>, <c>deployment</c> (only with a compute environment, as <c>project.v1</c>), <c>containerFiles</c>,
    /// <c>args</c>, <c>env</c> and <c>bindings</c>. <c>WithReplicas(2)</c> (a ReplicaAnnotation) and
    /// <c>WaitFor</c>/<c>WaitForCompletion</c> (WaitAnnotations) are not written: the manifest has no replica count and
    /// no start order, so azd deploys every project with one minimum replica and starts them all together. The exact
    /// set of fields proves both absences, and fails when a new Aspire writes more (then assert the new field's value).
    /// The model test below checks the replica count and the order where they live.
    /// </summary>
    [Fact]
    public void The_manifest_carries_no_replica_count_and_no_start_order()
    {
        foreach (var (service, fields) in new[]
        {
            ("api", new[] { "type", "path", "env", "bindings" }),
            ("refresher", ["type", "path", "env"]),
            ("migrations", ["type", "path", "env"]), // a project like the others; nothing marks it as a run-once step
        })
        {
            Assert.Equal("project.v0", Type(service));
            Assert.Equal(fields.Order(StringComparer.Ordinal),
                Resources.GetProperty(service).EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal));
        }
        foreach (var resource in Resources.EnumerateObject())
        {
            Assert.False(resource.Value.TryGetProperty("replicas", out _), $"{resource.Name} has a replica count");
            Assert.False(resource.Value.TryGetProperty("waitFor", out _), $"{resource.Name} has a start order");
        }
    }

    /// <summary>
    /// What the manifest cannot say, and the api's port of a local run, in the application model the same AppHost builds in
    /// run mode (not started).
    /// </summary>
    [Fact]
    public async Task The_app_model_runs_two_api_replicas_after_the_migration_step_completed()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(1));
        await using var appHost = await DistributedApplicationTestingBuilder.CreateAsync<Projects.RecApp_AppHost>(
            ["--Infrastructure:Mode=Containers", $"--Parameters:admin-api-key={RunningApplication.AdminKey}"], timeout.Token);
        IResource Resource(string name) => Assert.Single(appHost.Resources, resource => resource.Name == name);

        Assert.Equal(2, Resource("api").GetReplicaCount());
        // Run mode: the proxy's 5080 of a local run (the launch profile's port, which the AppHost also states), which
        // the manifest leaves out (test above).
        Assert.Equal(5080, Assert.Single(Resource("api").Annotations.OfType<EndpointAnnotation>(), e => e.Name == "http").Port);
        Assert.Equal(1, Resource("refresher").GetReplicaCount());
        Assert.Equal(1, Resource("migrations").GetReplicaCount());

        foreach (var service in new[] { "api", "refresher" })
        {
            var wait = Assert.Single(Resource(service).Annotations.OfType<WaitAnnotation>(), w => w.Resource.Name == "migrations");
            Assert.Equal(WaitType.WaitForCompletion, wait.WaitType);
            Assert.Equal(0, wait.ExitCode);
        }
        var server = Assert.Single(Resource("migrations").Annotations.OfType<WaitAnnotation>());
        Assert.Equal(("postgres", WaitType.WaitUntilHealthy), (server.Resource.Name, server.WaitType));
    }

    private string? Type(string resource) => Resources.GetProperty(resource).GetProperty("type").GetString();

    private string? Env(string service, string variable) =>
        Resources.GetProperty(service).GetProperty("env").GetProperty(variable).GetString();

    /// <summary>
    /// <c>dotnet run --project src/RecApp.AppHost -- --publisher manifest --output-path …</c>, once for the class, into a
    /// temporary folder.
    /// </summary>
    public sealed class PublishedManifest : IAsyncLifetime
    {
        private DirectoryInfo? _output;
        private JsonDocument? _manifest;

        public JsonElement Resources => _manifest!.RootElement.GetProperty("resources");

        public async ValueTask InitializeAsync()
        {
            _output = Directory.CreateTempSubdirectory("recapp-manifest-");
            var path = Path.Combine(_output.FullName, "aspire-manifest.json");
            // The AppHost is built with this project (same configuration), so it runs without building again.
            var configuration = typeof(ManifestTests).Assembly.GetCustomAttribute<AssemblyConfigurationAttribute>()!.Configuration;
            var (exitCode, log) = await RunAsync("dotnet",
                ["run", "--project", Projects.RecApp_AppHost.ProjectPath, "--no-build", "-c", configuration, "--no-launch-profile", "--",
                 "--publisher", "manifest", "--output-path", path]);
            if (exitCode != 0)
            {
                throw new InvalidOperationException($"the manifest publisher exited {exitCode}:\n{log}");
            }
            _manifest = JsonDocument.Parse(await File.ReadAllTextAsync(path));
        }

        public ValueTask DisposeAsync()
        {
            _manifest?.Dispose();
            _output?.Delete(recursive: true);
            return ValueTask.CompletedTask;
        }

        private static async Task<(int ExitCode, string Log)> RunAsync(string program, string[] arguments)
        {
            var start = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            foreach (var argument in arguments)
            {
                start.ArgumentList.Add(argument);
            }
            // The published defaults are the AppHost's configured values: inherited Parameters__* or Infrastructure__*
            // variables, or a Development environment (which loads the AppHost's user secrets), would change them.
            foreach (var name in start.Environment.Keys.Where(name =>
                         name.StartsWith("Parameters__", StringComparison.OrdinalIgnoreCase) ||
                         name.StartsWith("Infrastructure__", StringComparison.OrdinalIgnoreCase) ||
                         name is "DOTNET_ENVIRONMENT" or "ASPNETCORE_ENVIRONMENT").ToList())
            {
                start.Environment.Remove(name);
            }
            using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
            using var process = Process.Start(start)!;
            var output = process.StandardOutput.ReadToEndAsync(timeout.Token);
            var errors = process.StandardError.ReadToEndAsync(timeout.Token);
            try
            {
                await process.WaitForExitAsync(timeout.Token);
            }
            catch (OperationCanceledException)
            {
                process.Kill(entireProcessTree: true);
                throw;
            }
            return (process.ExitCode, await output + await errors);
        }
    }
}
