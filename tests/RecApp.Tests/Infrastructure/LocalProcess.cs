using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace RecApp.Tests.Infrastructure;

/// <summary>Small process and port utilities for the server fixtures.</summary>
internal static class LocalProcess
{
    public static int FreeTcpPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public static bool IsRoot => Environment.UserName == "root";

    /// <summary>Runs a command to completion; throws with its output when it fails.</summary>
    public static string Run(string fileName, params string[] arguments)
    {
        var start = new ProcessStartInfo(fileName)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"Could not start {fileName}.");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromSeconds(60)))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{fileName} {string.Join(' ', arguments)} did not finish in 60 s.");
        }
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException(
                $"{fileName} {string.Join(' ', arguments)} exited with {process.ExitCode}:\n{stdout.Result}\n{stderr.Result}");
        }
        return stdout.Result;
    }

    /// <summary>Runs a command as the <c>postgres</c> user when we are root (PostgreSQL refuses to run as root).</summary>
    public static string RunAsPostgres(string fileName, params string[] arguments) =>
        IsRoot ? Run("runuser", ["-u", "postgres", "--", fileName, .. arguments]) : Run(fileName, arguments);

    public static string FindExecutable(string name, params string[] extraDirectories)
    {
        var path = Environment.GetEnvironmentVariable("PATH") ?? "";
        foreach (var directory in extraDirectories.Concat(path.Split(':', StringSplitOptions.RemoveEmptyEntries)))
        {
            var candidate = Path.Combine(directory, name);
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }
        throw new InvalidOperationException($"'{name}' is not installed. Run ./dev.sh test, which installs it.");
    }

    /// <summary>
    /// Runs <paramref name="cleanupScript"/> (bash) once this test process is gone, however it ends: the test
    /// platform may kill the host before exit handlers finish, and servers must not outlive the run.
    /// </summary>
    public static void CleanUpAfterExit(string cleanupScript)
    {
        var watchdog = new ProcessStartInfo("setsid")
        {
            UseShellExecute = false,
            RedirectStandardInput = false,
            RedirectStandardOutput = false,
            RedirectStandardError = false,
        };
        watchdog.ArgumentList.Add("bash");
        watchdog.ArgumentList.Add("-c");
        watchdog.ArgumentList.Add(
            $"while kill -0 {Environment.ProcessId} 2>/dev/null; do sleep 0.5; done; {cleanupScript}");
        using var _ = Process.Start(watchdog);
    }

    /// <summary>Polls <paramref name="condition"/> until it holds or the deadline passes.</summary>
    public static async Task WaitUntilAsync(Func<Task<bool>> condition, TimeSpan timeout, string what)
    {
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < timeout)
        {
            if (await condition())
            {
                return;
            }
            await Task.Delay(25);
        }
        throw new TimeoutException($"Timed out after {timeout.TotalSeconds:F0} s waiting for {what}.");
    }
}
