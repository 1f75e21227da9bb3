using System.Diagnostics;

namespace RecApp.Tests.Foundation;

/// <summary>
/// Each service started with one bad setting exits by itself, quickly, with a non-zero code and the setting's name on
/// stderr. Before, the validation exception went unhandled: the right message, but through an abort (SIGABRT, exit
/// code 134, a core dump where enabled).
/// </summary>
[Collection(StartupTimingCollection.Name)]
public sealed class StartupConfigurationTests
{
    public static TheoryData<string, string, string, string> BadSettings => new()
    {
        { "RecApp.Api", "Caching__DistributedCacheHardTimeout", "banana", "Caching:DistributedCacheHardTimeout" },
        { "RecApp.Api", "Recommendations__EmbeddingFactors", "-5", "EmbeddingFactors" },
        { "RecApp.Refresher", "Refresher__PopularItemsRefreshInterval", "banana", "Refresher:PopularItemsRefreshInterval" },
        { "RecApp.Refresher", "POPULAR_ITEMS_REFRESH_MINUTES", "-3", "POPULAR_ITEMS_REFRESH_MINUTES" },
        { "RecApp.MigrationService", "Migrations__ConnectTimeout", "banana", "Migrations:ConnectTimeout" },
    };

    [Theory]
    [MemberData(nameof(BadSettings))]
    public async Task A_bad_setting_exits_cleanly_naming_it(string project, string variable, string value, string named)
    {
        var start = new ProcessStartInfo("dotnet", [ServiceAssembly(project)])
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
            Environment =
            {
                [variable] = value,
                // Unreachable on purpose: configuration is checked before any connection is made.
                ["ConnectionStrings__recdb"] = "Host=127.0.0.1;Port=1;Username=recapp;Database=recdb",
                ["ConnectionStrings__redis"] = "127.0.0.1:1",
                ["DOTNET_DbgEnableMiniDump"] = "0",
            },
        };
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

        Assert.True(started.Elapsed < TimeSpan.FromSeconds(5), $"{project} took {started.Elapsed.TotalSeconds:F1} s to refuse the setting");
        Assert.Equal(2, process.ExitCode); // not 134 (SIGABRT) nor 0
        var error = await stderr;
        Assert.Contains(named, error);
        Assert.DoesNotContain("Unhandled exception", error + await stdout);
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

/// <summary>Runs alone: the bound is on a service's own start-up time, not on how busy other tests keep the two cores.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class StartupTimingCollection
{
    public const string Name = "start-up timing";
}
