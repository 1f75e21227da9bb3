using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using Npgsql;
using RecApp.Tests.Api;
using RecApp.Tests.Infrastructure;

namespace RecApp.Tests.OperatorConsole;

/// <summary>
/// The API of an <see cref="ApiWorld"/> on a real port (Kestrel), with a few recorded job runs, and Debian's headless
/// chromium driven by Playwright. Playwright's own browser download does not work here, so a missing
/// <c>/usr/bin/chromium</c> fails the tests with the command that installs it, never skips them.
/// </summary>
public sealed class ConsoleBrowser : IAsyncLifetime
{
    public const string ChromiumPath = "/usr/bin/chromium";

    private static readonly string[] s_chromiumArgs =
        ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"];

    public ApiWorld World { get; } = new();

    public ApiFactory Api { get; private set; } = null!;

    /// <summary>Where the API listens, e.g. <c>http://127.0.0.1:41234</c>.</summary>
    public Uri BaseAddress { get; private set; } = null!;

    public IBrowser Browser { get; private set; } = null!;

    private IPlaywright? _playwright;

    public async ValueTask InitializeAsync()
    {
        if (!File.Exists(ChromiumPath))
        {
            throw new InvalidOperationException(
                $"The console's browser tests need Debian's chromium at {ChromiumPath}: apt-get install -y chromium " +
                "(./dev.sh test installs it). Playwright's own browser download does not work on these machines.");
        }
        await World.InitializeAsync();
        await RecordJobRunsAsync(World.ConnectionString);
        Api = World.CreateApi();
        Api.UseKestrel(0);
        Api.StartServer();
        var address = Api.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        BaseAddress = new Uri(address.Replace("[::]", "127.0.0.1", StringComparison.Ordinal));

        _playwright = await Playwright.CreateAsync();
        Browser = await _playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = ChromiumPath,
            Headless = true,
            Args = s_chromiumArgs,
        });
        // The machine is shared and slow at times: expectations poll up to this long before they fail.
        Assertions.SetDefaultExpectTimeout(20_000);
    }

    /// <summary>A fresh page (its own session storage, so signed out) with a fixed size for stable screenshots.</summary>
    public async Task<IPage> NewPageAsync()
    {
        var context = await Browser.NewContextAsync(new BrowserNewContextOptions
        {
            BaseURL = BaseAddress.ToString(),
            ViewportSize = new ViewportSize { Width = 1400, Height = 900 },
            TimezoneId = "UTC",
            Locale = "en-US",
        });
        var page = await context.NewPageAsync();
        page.SetDefaultTimeout(20_000);
        return page;
    }

    /// <summary>Set to 1 to refresh the documentation's screenshots (docs/screenshots) from this run.</summary>
    public const string UpdateScreenshotsVariable = "RECAPP_UPDATE_SCREENSHOTS";

    /// <summary>
    /// Takes a full-page screenshot of a view, always (so the step is exercised), into the test output folder; with
    /// <see cref="UpdateScreenshotsVariable"/>=1 into <c>docs/screenshots/{name}</c> instead, overwriting it. Not by
    /// default: every run shows other times, and a test run should not leave the working tree changed.
    /// </summary>
    public static async Task ScreenshotAsync(IPage page, string name)
    {
        var folder = Environment.GetEnvironmentVariable(UpdateScreenshotsVariable) == "1"
            ? Path.Combine(RepositoryRoot(), "docs", "screenshots")
            : Path.Combine(AppContext.BaseDirectory, "screenshots");
        var bytes = await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(folder, name), FullPage = true });
        Assert.NotEmpty(bytes);
    }

    private static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "RecApp.sln")))
            {
                return dir.FullName;
            }
        }
        throw new InvalidOperationException("RecApp.sln not found above " + AppContext.BaseDirectory);
    }

    /// <summary>The Refresher's leader writes job_runs; the world's model was built without one, so its history is written here.</summary>
    private static async Task RecordJobRunsAsync(string connectionString)
    {
        await using var dataSource = NpgsqlDataSource.Create(connectionString);
        await using var command = dataSource.CreateCommand("""
            INSERT INTO job_runs (job, host, started_at, finished_at, duration_ms, row_count, model_version, status, error)
            SELECT job, 'test-host', now() - make_interval(mins => 60 - n * 10), now() - make_interval(mins => 60 - n * 10) + make_interval(secs => ms / 1000.0),
                   ms, rows, n, status, CASE WHEN status = 'failed' THEN 'database unreachable' END
            FROM (VALUES (1, 'popular', 850, 240, 'succeeded'), (2, 'profiles', 1900, 40, 'succeeded'),
                         (3, 'similarities', 4200, 120, 'succeeded'), (4, 'popular', 700, 240, 'succeeded'),
                         (5, 'similarities', 1500, NULL, 'failed'), (6, 'cleanup', 300, 12, 'succeeded')) AS runs(n, job, ms, rows, status)
            """);
        await command.ExecuteNonQueryAsync();
    }

    public async ValueTask DisposeAsync()
    {
        if (Browser is not null)
        {
            await Browser.DisposeAsync();
        }
        _playwright?.Dispose();
        if (Api is not null)
        {
            await Api.DisposeAsync();
        }
        await World.DisposeAsync();
    }
}
