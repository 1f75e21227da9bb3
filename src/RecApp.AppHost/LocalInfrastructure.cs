using System.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace RecApp.AppHost;

/// <summary>
/// PostgreSQL and Redis as executable resources, for machines without a container runtime: the servers installed on
/// the machine (Debian's <c>postgresql</c> and <c>redis-server</c>), data under <c>Infrastructure:DataDirectory</c>
/// (default <c>.dev/aspire</c> at the repository root, git-ignored). Each has a <c>tcp</c> endpoint behind DCP's
/// proxy (the server listens on the target port), a health check, and a connection string named as in container mode.
/// DCP stops them with SIGTERM: PostgreSQL shuts down cleanly, Redis keeps nothing (it is a cache).
/// </summary>
public static class LocalInfrastructure
{
    public const string DataDirectoryKey = "Infrastructure:DataDirectory";

    public static Infrastructure Add(IDistributedApplicationBuilder builder)
    {
        var dataRoot = Path.GetFullPath(builder.Configuration[DataDirectoryKey]
            ?? Path.Combine(builder.AppHostDirectory, "..", "..", ".dev", "aspire"));
        var postgres = AddPostgres(builder, "postgres", Path.Combine(dataRoot, "postgres"));
        // Created by the migration step when missing, as AddDatabase does in container mode.
        var recdb = builder.AddConnectionString(Infrastructure.DatabaseName,
            ReferenceExpression.Create($"{postgres.Resource};Database={Infrastructure.DatabaseName}"));
        var redis = AddRedis(builder, Infrastructure.CacheName, Path.Combine(dataRoot, "redis"));
        return new Infrastructure(InfrastructureMode.LocalProcesses, postgres, recdb, redis);
    }

    private static IResourceBuilder<LocalPostgresResource> AddPostgres(IDistributedApplicationBuilder builder, string name, string directory)
    {
        var binaries = PostgresBinaries.Find();
        var data = Path.Combine(directory, "data");
        var command = AsPostgresUser(Path.Combine(binaries, "postgres"), out var prefix);
        var resource = new LocalPostgresResource(name, command, directory);

        string? connectionString = null;
        var healthCheckKey = $"{name}_check";
        // Pooling off: an idle pooled connection would hold PostgreSQL's (smart) shutdown open.
        builder.Services.AddHealthChecks().AddNpgSql(
            _ => connectionString ?? throw new InvalidOperationException($"The {name} connection string is not known yet."),
            name: healthCheckKey);

        return builder.AddResource(resource)
            .WithEndpoint(name: LocalPostgresResource.EndpointName, scheme: "tcp")
            .WithArgs(context =>
            {
                AddArgs(context, [.. prefix]);
                AddArgs(context, ["-D", data, "-p", resource.Endpoint.Property(EndpointProperty.TargetPort)]);
                // TCP on loopback only, no Unix socket (nothing to clean up, no path-length limit).
                AddArgs(context, ["-c", "listen_addresses=127.0.0.1", "-c", "unix_socket_directories="]);
                AddArgs(context, ["-c", "max_connections=200"]);
            })
            .WithHealthCheck(healthCheckKey)
            .OnBeforeResourceStarted(async (postgres, startEvent, cancellationToken) =>
            {
                var logger = startEvent.Services.GetRequiredService<ResourceLoggerService>().GetLogger(postgres);
                await PostgresBinaries.EnsureClusterAsync(binaries, directory, data, logger, cancellationToken);
            })
            .OnConnectionStringAvailable(async (postgres, _, cancellationToken) =>
            {
                connectionString = $"{await ((IResourceWithConnectionString)postgres).GetConnectionStringAsync(cancellationToken)};Database=postgres;Pooling=false";
            });
    }

    private static IResourceBuilder<LocalRedisResource> AddRedis(IDistributedApplicationBuilder builder, string name, string directory)
    {
        var resource = new LocalRedisResource(name, "redis-server", directory);

        string? connectionString = null;
        var healthCheckKey = $"{name}_check";
        builder.Services.AddHealthChecks().AddRedis(
            _ => connectionString ?? throw new InvalidOperationException($"The {name} connection string is not known yet."),
            name: healthCheckKey);

        return builder.AddResource(resource)
            .WithEndpoint(name: LocalRedisResource.EndpointName, scheme: "tcp")
            .WithArgs(context =>
            {
                AddArgs(context, ["--port", resource.Endpoint.Property(EndpointProperty.TargetPort), "--bind", "127.0.0.1"]);
                // A cache: nothing saved, nothing loaded; bounded like the production cache.
                AddArgs(context, ["--save", "", "--appendonly", "no", "--dir", directory]);
                AddArgs(context, ["--maxmemory", "512mb", "--maxmemory-policy", "allkeys-lru"]);
            })
            .WithHealthCheck(healthCheckKey)
            .OnBeforeResourceStarted((_, _, _) =>
            {
                Directory.CreateDirectory(directory); // its working directory
                return Task.CompletedTask;
            })
            .OnConnectionStringAvailable(async (redis, _, cancellationToken) =>
            {
                connectionString = await ((IResourceWithConnectionString)redis).GetConnectionStringAsync(cancellationToken);
            });
    }

    private static void AddArgs(CommandLineArgsCallbackContext context, params object[] arguments)
    {
        foreach (var argument in arguments)
        {
            context.Args.Add(argument);
        }
    }

    /// <summary>
    /// PostgreSQL refuses to run as root. As root the server is started through <c>setpriv</c>, which switches to the
    /// <c>postgres</c> user and then execs the server, so DCP's stop signal reaches the server itself (<c>runuser</c>
    /// would stay in between and kill it two seconds after forwarding the signal).
    /// </summary>
    private static string AsPostgresUser(string program, out string[] prefixArgs)
    {
        if (!PostgresBinaries.RunningAsRoot)
        {
            prefixArgs = [];
            return program;
        }
        prefixArgs = ["--reuid=postgres", "--regid=postgres", "--init-groups", "--", program];
        return "setpriv";
    }
}

/// <summary>A PostgreSQL server run from the machine's binaries; its connection string names no database.</summary>
public sealed class LocalPostgresResource(string name, string command, string workingDirectory)
    : ExecutableResource(name, command, workingDirectory), IResourceWithConnectionString
{
    public const string EndpointName = "tcp";

    /// <summary>The cluster's superuser, created by <c>initdb</c>; loopback connections are trusted.</summary>
    public const string UserName = "recapp";

    public EndpointReference Endpoint => new(this, EndpointName);

    public ReferenceExpression ConnectionStringExpression => ReferenceExpression.Create(
        $"Host={Endpoint.Property(EndpointProperty.IPV4Host)};Port={Endpoint.Property(EndpointProperty.Port)};Username={UserName}");
}

/// <summary>A Redis server run from the machine's <c>redis-server</c>.</summary>
public sealed class LocalRedisResource(string name, string command, string workingDirectory)
    : ExecutableResource(name, command, workingDirectory), IResourceWithConnectionString
{
    public const string EndpointName = "tcp";

    public EndpointReference Endpoint => new(this, EndpointName);

    public ReferenceExpression ConnectionStringExpression => ReferenceExpression.Create(
        $"{Endpoint.Property(EndpointProperty.IPV4Host)}:{Endpoint.Property(EndpointProperty.Port)}");
}

/// <summary>Finds the installed PostgreSQL server and creates the cluster on first use.</summary>
internal static class PostgresBinaries
{
    public static bool RunningAsRoot => Environment.UserName == "root";

    /// <summary>The newest <c>/usr/lib/postgresql/*/bin</c> (Debian's layout), else the folder of <c>postgres</c> on PATH.</summary>
    public static string Find()
    {
        var debian = Directory.Exists("/usr/lib/postgresql")
            ? Directory.GetDirectories("/usr/lib/postgresql")
                .Select(version => Path.Combine(version, "bin"))
                .Where(bin => File.Exists(Path.Combine(bin, "postgres")) && File.Exists(Path.Combine(bin, "initdb")))
                .OrderByDescending(bin => int.TryParse(Path.GetFileName(Path.GetDirectoryName(bin)), out var major) ? major : 0)
                .FirstOrDefault()
            : null;
        if (debian is not null)
        {
            return debian;
        }
        var onPath = (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator)
            .FirstOrDefault(dir => dir.Length > 0 && File.Exists(Path.Combine(dir, "postgres")) && File.Exists(Path.Combine(dir, "initdb")));
        return onPath ?? throw new InvalidOperationException(
            "PostgreSQL server binaries not found (postgres, initdb). Install them (Debian: apt-get install postgresql, " +
            "or ./dev.sh setup) or use Infrastructure:Mode=Containers.");
    }

    /// <summary>Runs <c>initdb</c> once; as root, hands the folder to the postgres user first.</summary>
    public static async Task EnsureClusterAsync(string binaries, string directory, string data, ILogger logger, CancellationToken cancellationToken)
    {
        if (File.Exists(Path.Combine(data, "PG_VERSION")))
        {
            return;
        }
        Directory.CreateDirectory(directory);
        if (RunningAsRoot)
        {
            await RunAsync("chown", ["-R", "postgres:postgres", directory], logger, cancellationToken);
        }
        logger.LogInformation("Creating a PostgreSQL cluster in {Data}.", data);
        string[] initdb = [Path.Combine(binaries, "initdb"), "-D", data, "--auth=trust", $"--username={LocalPostgresResource.UserName}",
            "--encoding=UTF8", "--locale=C", "--no-sync"];
        if (RunningAsRoot)
        {
            await RunAsync("setpriv", ["--reuid=postgres", "--regid=postgres", "--init-groups", "--", .. initdb], logger, cancellationToken);
        }
        else
        {
            await RunAsync(initdb[0], initdb[1..], logger, cancellationToken);
        }
    }

    private static async Task RunAsync(string program, string[] arguments, ILogger logger, CancellationToken cancellationToken)
    {
        var start = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"Could not start {program}.");
        var output = process.StandardOutput.ReadToEndAsync(cancellationToken);
        var errors = process.StandardError.ReadToEndAsync(cancellationToken);
        await process.WaitForExitAsync(cancellationToken);
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{program} failed ({process.ExitCode}): {await errors}{await output}");
        }
        logger.LogDebug("{Program}: {Output}", program, await output);
    }
}
