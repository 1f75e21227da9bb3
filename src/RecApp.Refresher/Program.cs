using System.CommandLine;
using RecApp.Engine.Domain;
using RecApp.Data;
using RecApp.Data.Migrations;
using RecApp.Data.Source;
using RecApp.Engine.Training;
using RecApp.Engine.Embeddings;
using RecApp.Data.Models;
using RecApp.Refresher.Jobs;
using RecApp.Refresher.Cli;
using RecApp.ServiceDefaults;

namespace RecApp.Refresher;

public static class Program
{
    /// <summary>No verb runs the worker; <c>seed</c> and <c>import</c> load data (see <see cref="RefresherCommandLine"/>).</summary>
    public static Task<int> Main(string[] args)
    {
        var commandLine = RefresherCommandLine.Create(cancellationToken => RunWorkerAsync(args, cancellationToken));
        var parsed = commandLine.Parse(args);
        return parsed.InvokeAsync(LeaveTerminationToTheHost);
    }

    /// <summary>
    /// Turns off System.CommandLine's own SIGTERM/Ctrl-C handling: the worker's host listens for them and shuts the
    /// worker down gracefully, letting a running job stop cleanly.
    /// </summary>
    private static InvocationConfiguration LeaveTerminationToTheHost => new() { ProcessTerminationTimeout = null };

    /// <summary>The worker until it stops; a bad setting ends it at start-up with its name on stderr and exit code 2.</summary>
    public static async Task<int> RunWorkerAsync(string[] args, CancellationToken cancellationToken)
    {
        try
        {
            using var host = CreateWorkerBuilder(args).Build();
            await host.RunAsync(cancellationToken);
            return 0;
        }
        catch (Exception exception) when (ConfigurationError.Describe(exception) is { } error)
        {
            return ConfigurationError.Exit(error);
        }
    }

    public static HostApplicationBuilder CreateWorkerBuilder(string[] args)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings
        {
            Args = args,
            ContentRootPath = AppContext.BaseDirectory, // appsettings next to the binary, wherever it is started from
        });

        builder.AddServiceDefaults();
        builder.AddPostgresDataSource("recdb");
        if (builder.AddOptionalReadOnlyPostgresDataSource(SourceDatabaseOptions.ConnectionName)) // the shop's database, read-only
        {
            builder.Services.AddSourceDatabase();
        }
        builder.AddRedisConnection("redis");
        builder.Services.AddModelJobs();
        builder.AddRefresher();

        return builder;
    }
}
