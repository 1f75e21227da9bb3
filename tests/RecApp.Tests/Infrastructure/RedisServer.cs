using System.Diagnostics;
using System.Net.Sockets;

namespace RecApp.Tests.Infrastructure;

/// <summary>
/// A throwaway <c>redis-server</c> on a free loopback port (no persistence), or the server named by
/// <c>RECAPP_TEST_REDIS</c> (host:port). Tests isolate themselves with a unique key prefix.
/// </summary>
public sealed class RedisServer : IAsyncDisposable
{
    private Process? _process;

    private RedisServer(string host, int port, bool owned)
    {
        Host = host;
        Port = port;
        IsOwned = owned;
    }

    public string Host { get; }
    public int Port { get; }
    public bool IsOwned { get; }

    /// <summary>A StackExchange.Redis connection string for this server.</summary>
    public string ConnectionString => $"{Host}:{Port},abortConnect=false,connectTimeout=1000,syncTimeout=1000";

    public static Task<RedisServer> StartSharedOrPrivateAsync()
    {
        var external = Environment.GetEnvironmentVariable("RECAPP_TEST_REDIS");
        if (string.IsNullOrWhiteSpace(external))
        {
            return StartPrivateAsync();
        }
        var parts = external.Split(':');
        return Task.FromResult(new RedisServer(parts[0], parts.Length > 1 ? int.Parse(parts[1]) : 6379, owned: false));
    }

    public static async Task<RedisServer> StartPrivateAsync()
    {
        var server = new RedisServer("127.0.0.1", LocalProcess.FreeTcpPort(), owned: true);
        await server.StartAsync();
        return server;
    }

    public bool IsRunning => _process is { HasExited: false };

    /// <summary>Starts (or restarts, after <see cref="Stop"/>) the owned server on its port.</summary>
    public async Task StartAsync()
    {
        if (!IsOwned)
        {
            throw new InvalidOperationException("Only a server started by the fixture can be restarted.");
        }
        var start = new ProcessStartInfo(LocalProcess.FindExecutable("redis-server", "/usr/bin", "/usr/local/bin"))
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var argument in new[] { "--port", Port.ToString(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--protected-mode", "no" })
        {
            start.ArgumentList.Add(argument);
        }
        _process = Process.Start(start) ?? throw new InvalidOperationException("redis-server did not start.");
        _process.OutputDataReceived += (_, _) => { };
        _process.ErrorDataReceived += (_, _) => { };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        LocalProcess.CleanUpAfterExit($"kill {_process.Id} 2>/dev/null");
        await LocalProcess.WaitUntilAsync(() => Task.FromResult(AcceptsConnections()), TimeSpan.FromSeconds(15), "redis-server to listen");
    }

    /// <summary>Kills the owned server (an outage).</summary>
    public void Stop()
    {
        if (_process is null)
        {
            return;
        }
        _process.Kill();
        _process.WaitForExit();
        _process.Dispose();
        _process = null;
    }

    private bool AcceptsConnections()
    {
        try
        {
            using var client = new TcpClient();
            client.Connect(Host, Port);
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    public ValueTask DisposeAsync()
    {
        Stop();
        return ValueTask.CompletedTask;
    }
}
