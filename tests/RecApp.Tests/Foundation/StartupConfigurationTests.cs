using System.Diagnostics;
using RecApp.Tests.Infrastructure;

namespace RecApp.Tests.Foundation;

/// <summary>
/// Each service started with one bad setting exits by itself, quickly, with a non-zero code and the setting's name on
/// stderr. Before, the validation exception went unhandled: the right message, but through an abort (SIGABRT, exit
/// code 134, a core dump where enabled).
/// </summary>
[Collection(TimingCollection.Name)]
public sealed class StartupConfigurationTests
{
    public static TheoryData<string, string, string, string> BadSettings => new()
    {
        { "RecApp.Api", "Caching__DistributedCacheHardTimeout", "banana", "Caching:DistributedCacheHardTimeout" },
        { "RecApp.Api", "Recommendations__Embeddings__Factors", "-5", "Recommendations:Embeddings:Factors" },
        { "RecApp.Refresher", "Refresher__PopularItemsRefreshInterval", "banana", "Refresher:PopularItemsRefreshInterval" },
        { "RecApp.Refresher", "POPULAR_ITEMS_REFRESH_MINUTES", "-3", "POPULAR_ITEMS_REFRESH_MINUTES" },
        { "RecApp.Refresher", "Recommendations__Embeddings__WarmIterations", "-1", "Recommendations:Embeddings:WarmIterations" },
        { "RecApp.MigrationService", "Migrations__ConnectTimeout", "banana", "Migrations:ConnectTimeout" },
        { "RecApp.Api", "ConnectionStrings__recdb", "", "ConnectionStrings__recdb" }, // missing
        { "RecApp.Api", "DEFAULT_PAGE_SIZE", "twenty", "DEFAULT_PAGE_SIZE" },
        { "RecApp.Api", "CACHE_TTL_POPULAR", "-5", "CACHE_TTL_POPULAR" },
        { "RecApp.Api", "MAX_PAGE_SIZE", "0", "MAX_PAGE_SIZE" },
        { "RecApp.Api", "MAX_SIMILAR_USERS", "many", "MAX_SIMILAR_USERS" },
        { "RecApp.Api", "Api__PopularTtl", "00:00:00", "Api:PopularTtl" },
        { "RecApp.Api", "Api__WarmUsers", "-1", "Api:WarmUsers" },
        { "RecApp.Api", "Api__MaxConcurrentEngineRuns", "-1", "Api:MaxConcurrentEngineRuns" },
        { "RecApp.Api", "RateLimiting__AdminBurst", "0", "RateLimiting:AdminBurst" },
        { "RecApp.Api", "RateLimiting__UnlimitedNetworks__0", "10.0.0.0/33", "10.0.0.0/33" },
        { "RecApp.Api", "HealthChecks__Timeout", "00:01:00", "Timeout" },
        { "RecApp.Api", "Database__WriteTimeout", "0", "WriteTimeout" },
        { "RecApp.Refresher", "ConnectionStrings__recdb", "", "ConnectionStrings__recdb" },
        { "RecApp.Api", "Memory__IdleTrimAfter", "-00:00:05", "Memory:IdleTrimAfter" },
        { "RecApp.Refresher", "Memory__IdleTrimMinimumAllocation", "-1", "Memory:IdleTrimMinimumAllocation" },
        { "RecApp.Api", "Memory__IdleTrimAfter", "00:00:00.0005", "Memory:IdleTrimAfter" },
    };

    [Theory]
    [MemberData(nameof(BadSettings))]
    public async Task A_bad_setting_exits_cleanly_naming_it(string project, string variable, string value, string named)
    {
        var error = await ExitsRefusingAsync(project, new() { [variable] = value });
        Assert.Contains(named, error);
    }

    [Fact]
    public async Task A_rule_across_settings_names_both()
    {
        var error = await ExitsRefusingAsync("RecApp.Api", new() { ["DEFAULT_PAGE_SIZE"] = "50", ["MAX_PAGE_SIZE"] = "10" });
        Assert.Contains("DEFAULT_PAGE_SIZE", error);
        Assert.Contains("MAX_PAGE_SIZE", error);
    }

    /// <summary>
    /// Starts the service with <paramref name="settings"/>; asserts it exits by itself with code 2 before it tried the
    /// database (no "Failed to connect" from the unreachable one), and returns its stderr. The Redis client connects in
    /// the background from the moment it is created and never holds start-up, so its errors may appear. The 20 s bound
    /// only catches a hang: start-up takes 1–2 s on a quiet machine and over 5 s on two busy cores.
    /// </summary>
    private static async Task<string> ExitsRefusingAsync(string project, Dictionary<string, string> settings)
    {
        var start = new ProcessStartInfo("dotnet", [ServiceAssembly(project)])
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
            Environment =
            {
                // Unreachable on purpose: configuration is checked before any connection is made.
                ["ConnectionStrings__recdb"] = "Host=127.0.0.1;Port=1;Username=recapp;Database=recdb",
                ["ConnectionStrings__redis"] = "127.0.0.1:1",
                ["DOTNET_DbgEnableMiniDump"] = "0",
            },
        };
        foreach (var (variable, value) in settings)
        {
            start.Environment[variable] = value;
        }
        using var process = Process.Start(start)!;
        var stderr = process.StandardError.ReadToEndAsync();
        var stdout = process.StandardOutput.ReadToEndAsync();
        var started = Stopwatch.StartNew();
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(30)); // only a backstop: the bound is below
        try
        {
            await process.WaitForExitAsync(deadline.Token);
        }
        finally
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
            }
        }

        Assert.True(started.Elapsed < TimeSpan.FromSeconds(20), $"{project} took {started.Elapsed.TotalSeconds:F1} s to refuse the setting");
        Assert.Equal(2, process.ExitCode); // not 134 (SIGABRT) nor 0
        var error = await stderr;
        var output = error + await stdout;
        Assert.DoesNotContain("Unhandled exception", output);
        Assert.DoesNotContain("Failed to connect", output); // Npgsql's words for the unreachable database
        return error;
    }

    /// <summary>The service's own build output, next to this test assembly's configuration (Debug or Release).</summary>
    private static string ServiceAssembly(string project)
    {
        var tests = new DirectoryInfo(AppContext.BaseDirectory); // tests/RecApp.Tests/bin/<configuration>/<framework>/
        var framework = tests.Name;
        var configuration = tests.Parent!.Name;
        var root = tests;
        while (!File.Exists(Path.Combine(root.FullName, "RecApp.sln")))
        {
            root = root.Parent ?? throw new DirectoryNotFoundException("RecApp.sln not found above " + AppContext.BaseDirectory);
        }
        var path = Path.Combine(root.FullName, "src", project, "bin", configuration, framework, project + ".dll");
        Assert.True(File.Exists(path), $"{path} is missing: build the solution first");
        return path;
    }
}
