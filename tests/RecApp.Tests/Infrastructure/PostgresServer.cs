using Npgsql;

namespace RecApp.Tests.Infrastructure;

/// <summary>
/// A throwaway PostgreSQL cluster on a free loopback port (fsync off: test data is disposable), or the server
/// named by <c>RECAPP_TEST_POSTGRES</c> (an admin connection string). Tests get a fresh database each.
/// </summary>
public sealed class PostgresServer : IAsyncDisposable
{
    private readonly string? _dataDirectory;
    private readonly string? _pgCtl;

    private PostgresServer(string adminConnectionString, string? dataDirectory, string? pgCtl)
    {
        AdminConnectionString = adminConnectionString;
        _dataDirectory = dataDirectory;
        _pgCtl = pgCtl;
    }

    public string AdminConnectionString { get; }

    public bool IsOwned => _dataDirectory is not null;

    /// <summary>Uses <c>RECAPP_TEST_POSTGRES</c> when set, otherwise starts a private cluster.</summary>
    public static Task<PostgresServer> StartSharedOrPrivateAsync()
    {
        var external = Environment.GetEnvironmentVariable("RECAPP_TEST_POSTGRES");
        return string.IsNullOrWhiteSpace(external)
            ? StartPrivateAsync()
            : Task.FromResult(new PostgresServer(external, null, null));
    }

    /// <summary>Starts a new cluster this fixture owns (and may stop and restart in outage tests).</summary>
    public static async Task<PostgresServer> StartPrivateAsync()
    {
        var binDirectory = FindBinDirectory();
        var initdb = Path.Combine(binDirectory, "initdb");
        var pgCtl = Path.Combine(binDirectory, "pg_ctl");

        var root = Path.Combine(Path.GetTempPath(), $"recapp-pg-{Environment.ProcessId}-{Guid.NewGuid():N}"[..40]);
        Directory.CreateDirectory(root);
        if (LocalProcess.IsRoot)
        {
            LocalProcess.Run("chown", "postgres:postgres", root);
        }
        var data = Path.Combine(root, "data");
        LocalProcess.RunAsPostgres(initdb, "-D", data, "--auth=trust", "-U", "recapp", "--no-sync", "-E", "UTF8", "--locale=C");

        var stop = LocalProcess.IsRoot ? $"runuser -u postgres -- {pgCtl}" : pgCtl;
        LocalProcess.CleanUpAfterExit($"{stop} -D {data} -m immediate -w stop >/dev/null 2>&1; rm -rf {root}");

        var port = LocalProcess.FreeTcpPort();
        var server = new PostgresServer(
            $"Host=127.0.0.1;Port={port};Username=recapp;Database=postgres;Pooling=true;Timeout=5;Command Timeout=120",
            data, pgCtl);
        await server.StartAsync(port);
        return server;
    }

    private int _port;

    private async Task StartAsync(int port)
    {
        _port = port;
        var options = $"-p {port} -k {Path.GetDirectoryName(_dataDirectory)} -c listen_addresses=127.0.0.1 " +
                      "-c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300 " +
                      "-c shared_buffers=256MB";
        LocalProcess.RunAsPostgres(_pgCtl!, "-D", _dataDirectory!, "-o", options, "-l",
            Path.Combine(Path.GetDirectoryName(_dataDirectory)!, "server.log"), "-w", "-t", "30", "start");
        await LocalProcess.WaitUntilAsync(CanConnectAsync, TimeSpan.FromSeconds(30), "PostgreSQL to accept connections");
    }

    /// <summary>Stops an owned cluster immediately (an outage, not a shutdown).</summary>
    public void Stop()
    {
        EnsureOwned();
        LocalProcess.RunAsPostgres(_pgCtl!, "-D", _dataDirectory!, "-m", "immediate", "-w", "stop");
        NpgsqlConnection.ClearAllPools();
    }

    /// <summary>
    /// Hangs an owned cluster (SIGSTOP to the server and every backend): connections stay open but nothing answers,
    /// as with a frozen host. <see cref="Thaw"/> resumes it.
    /// </summary>
    public void Freeze() => Signal("STOP");

    public void Thaw() => Signal("CONT");

    private void Signal(string signal)
    {
        EnsureOwned();
        var pid = File.ReadLines(Path.Combine(_dataDirectory!, "postmaster.pid")).First().Trim();
        // Backends first, so none runs on while the server is already stopped; pkill finds none when idle.
        LocalProcess.Run("sh", "-c", $"pkill -{signal} -P {pid}; kill -{signal} {pid}");
    }

    /// <summary>Starts an owned cluster again on the same port.</summary>
    public Task RestartAsync()
    {
        EnsureOwned();
        return StartAsync(_port);
    }

    /// <summary>Creates an empty database and returns its connection string.</summary>
    public async Task<string> CreateDatabaseAsync(string? prefix = null)
    {
        var name = $"{prefix ?? "t"}_{Guid.NewGuid():N}"[..Math.Min(40, (prefix?.Length ?? 1) + 33)].ToLowerInvariant();
        await using (var connection = new NpgsqlConnection(AdminConnectionString))
        {
            await connection.OpenAsync();
            await using var command = new NpgsqlCommand($"CREATE DATABASE \"{name}\"", connection);
            await command.ExecuteNonQueryAsync();
        }
        return new NpgsqlConnectionStringBuilder(AdminConnectionString) { Database = name }.ConnectionString;
    }

    private async Task<bool> CanConnectAsync()
    {
        try
        {
            await using var connection = new NpgsqlConnection(AdminConnectionString);
            await connection.OpenAsync();
            return true;
        }
        catch (NpgsqlException)
        {
            return false;
        }
    }

    private void EnsureOwned()
    {
        if (!IsOwned)
        {
            throw new InvalidOperationException("Only a cluster started by the fixture can be stopped or restarted.");
        }
    }

    private static string FindBinDirectory()
    {
        foreach (var candidate in Directory.Exists("/usr/lib/postgresql")
                     ? Directory.GetDirectories("/usr/lib/postgresql").OrderDescending().Select(d => Path.Combine(d, "bin"))
                     : [])
        {
            if (File.Exists(Path.Combine(candidate, "pg_ctl")))
            {
                return candidate;
            }
        }
        return Path.GetDirectoryName(LocalProcess.FindExecutable("pg_ctl"))!;
    }

    public ValueTask DisposeAsync()
    {
        NpgsqlConnection.ClearAllPools();
        if (IsOwned)
        {
            try
            {
                LocalProcess.RunAsPostgres(_pgCtl!, "-D", _dataDirectory!, "-m", "immediate", "-w", "stop");
            }
            catch (InvalidOperationException)
            {
                // Already stopped by an outage test.
            }
            try
            {
                Directory.Delete(Path.GetDirectoryName(_dataDirectory)!, recursive: true);
            }
            catch (IOException)
            {
            }
        }
        return ValueTask.CompletedTask;
    }
}
