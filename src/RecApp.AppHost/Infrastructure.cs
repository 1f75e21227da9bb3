using System.Diagnostics;

namespace RecApp.AppHost;

/// <summary>How PostgreSQL and Redis are supplied; configuration key <c>Infrastructure:Mode</c>.</summary>
public enum InfrastructureMode
{
    /// <summary>Containers when a container runtime answers, local processes otherwise (containers when publishing).</summary>
    Auto,

    /// <summary><c>AddPostgres</c> with a data volume and <c>AddRedis</c>: needs Docker or Podman.</summary>
    Containers,

    /// <summary>The PostgreSQL and Redis servers installed on this machine, run as executable resources.</summary>
    LocalProcesses,
}

/// <summary>
/// What the services need from the infrastructure, whichever way it is supplied: the <c>recdb</c> and <c>redis</c>
/// connection strings (the names the services read) and the server resource to wait for before using the database.
/// </summary>
public sealed record Infrastructure(
    InfrastructureMode Mode,
    IResourceBuilder<IResource> DatabaseServer,
    IResourceBuilder<IResourceWithConnectionString> Database,
    IResourceBuilder<IResourceWithConnectionString> Cache)
{
    public const string ModeKey = "Infrastructure:Mode";
    public const string DatabaseName = "recdb";
    public const string CacheName = "redis";

    /// <summary>Adds PostgreSQL (with <c>recdb</c>) and Redis the way <c>Infrastructure:Mode</c> asks for.</summary>
    public static Infrastructure Add(IDistributedApplicationBuilder builder)
    {
        var mode = ChooseMode(builder);
        Console.WriteLine($"RecApp infrastructure: {mode} ({ModeKey} = {builder.Configuration[ModeKey] ?? "Auto"})");
        return mode == InfrastructureMode.Containers ? AddContainers(builder) : LocalInfrastructure.Add(builder);
    }

    private static Infrastructure AddContainers(IDistributedApplicationBuilder builder)
    {
        // The data volume outlives runs; the generated password lives in the AppHost's user secrets, so it still opens.
        var postgres = builder.AddPostgres("postgres").WithDataVolume();
        var recdb = postgres.AddDatabase(DatabaseName);

        // The cache refills from the database, so no volume. Plain TCP: Aspire would otherwise serve Redis over TLS
        // with the developer certificate, which Linux machines do not trust reliably.
#pragma warning disable ASPIRECERTIFICATES001 // experimental certificate API
        var redis = builder.AddRedis(CacheName).WithoutHttpsCertificate();
#pragma warning restore ASPIRECERTIFICATES001
        return new Infrastructure(InfrastructureMode.Containers, postgres, recdb, redis);
    }

    private static InfrastructureMode ChooseMode(IDistributedApplicationBuilder builder)
    {
        var configured = builder.Configuration[ModeKey];
        var mode = InfrastructureMode.Auto;
        if (!string.IsNullOrWhiteSpace(configured) && !Enum.TryParse(configured, ignoreCase: true, out mode))
        {
            throw new InvalidOperationException(
                $"{ModeKey} is '{configured}'; expected {string.Join(", ", Enum.GetNames<InfrastructureMode>())}.");
        }
        if (mode != InfrastructureMode.Auto)
        {
            return mode;
        }
        // A deployment manifest describes containers; writing it needs no runtime.
        if (builder.ExecutionContext.IsPublishMode)
        {
            return InfrastructureMode.Containers;
        }
        return ContainerRuntimeAnswers(builder.Configuration["ASPIRE_CONTAINER_RUNTIME"] ?? "docker")
            ? InfrastructureMode.Containers
            : InfrastructureMode.LocalProcesses;
    }

    /// <summary>
    /// True when <c>{runtime} info</c> succeeds within a few seconds. A client without a daemon (the usual case here)
    /// fails at once; the bound covers a daemon that hangs.
    /// </summary>
    private static bool ContainerRuntimeAnswers(string runtime)
    {
        try
        {
            using var process = Process.Start(new ProcessStartInfo(runtime, "info")
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            });
            if (process is null)
            {
                return false;
            }
            _ = process.StandardOutput.ReadToEndAsync(); // drained so a chatty runtime cannot block on a full pipe
            _ = process.StandardError.ReadToEndAsync();
            if (!process.WaitForExit(TimeSpan.FromSeconds(5)))
            {
                process.Kill(entireProcessTree: true);
                return false;
            }
            return process.ExitCode == 0;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return false; // not installed
        }
    }
}

public static class InfrastructureResourceBuilderExtensions
{
    /// <summary>Both connection strings, and a start only once the database server and Redis are healthy.</summary>
    public static IResourceBuilder<ProjectResource> WithInfrastructure(this IResourceBuilder<ProjectResource> project, Infrastructure infrastructure) =>
        project
            .WithReference(infrastructure.Database, Infrastructure.DatabaseName).WaitFor(infrastructure.DatabaseServer)
            .WithReference(infrastructure.Cache, Infrastructure.CacheName).WaitFor(infrastructure.Cache);
}
