using System.Diagnostics;
using System.Reflection;
using System.Text.Json;

namespace RecApp.AppHost.Tests;

/// <summary>The deployment manifest, written by the AppHost's manifest publisher (no container runtime needed).</summary>
public sealed class ManifestTests
{
    [Fact]
    public async Task The_manifest_names_every_resource_and_wires_the_connection_strings()
    {
        var output = Directory.CreateTempSubdirectory("recapp-manifest-");
        try
        {
            var path = Path.Combine(output.FullName, "aspire-manifest.json");
            var project = Projects.RecApp_AppHost.ProjectPath;
            // The AppHost is built with this project (same configuration), so it runs without building again.
            var configuration = typeof(ManifestTests).Assembly.GetCustomAttribute<AssemblyConfigurationAttribute>()!.Configuration;
            var (exitCode, log) = await RunAsync("dotnet",
                ["run", "--project", project, "--no-build", "-c", configuration, "--no-launch-profile", "--",
                 "--publisher", "manifest", "--output-path", path]);
            Assert.True(exitCode == 0, $"the manifest publisher exited {exitCode}:\n{log}");

            using var manifest = JsonDocument.Parse(await File.ReadAllTextAsync(path));
            var resources = manifest.RootElement.GetProperty("resources");
            var names = resources.EnumerateObject().Select(r => r.Name).ToHashSet();
            string[] expected =
            [
                "postgres", "recdb", "redis", "migrations", "refresher", "api", "admin-api-key", "demo-data-size",
                "popular-items-refresh-minutes", "user-profiles-refresh-minutes", "similarities-refresh-minutes", "cache-cleanup-hours",
            ];
            Assert.Empty(expected.Except(names));
            Assert.StartsWith("project.", resources.GetProperty("api").GetProperty("type").GetString());
            Assert.StartsWith("container.", resources.GetProperty("postgres").GetProperty("type").GetString()); // publishing describes containers
            foreach (var service in new[] { "api", "refresher", "migrations" })
            {
                var env = resources.GetProperty(service).GetProperty("env");
                Assert.Equal("{recdb.connectionString}", env.GetProperty("ConnectionStrings__recdb").GetString());
            }
            Assert.Equal("{redis.connectionString}", resources.GetProperty("api").GetProperty("env").GetProperty("ConnectionStrings__redis").GetString());
        }
        finally
        {
            output.Delete(recursive: true);
        }
    }

    private static async Task<(int ExitCode, string Log)> RunAsync(string program, string[] arguments)
    {
        var start = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
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
