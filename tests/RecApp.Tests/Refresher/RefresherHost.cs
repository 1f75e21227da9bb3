using System.Collections.Concurrent;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using RecApp.Data;
using RecApp.Data.Migrations;
using RecApp.Engine;
using RecApp.Engine.Model;
using RecApp.Engine.Training;
using RecApp.Engine.Embeddings;
using RecApp.Data.Models;
using RecApp.Api.Model;
using RecApp.Refresher.Jobs;
using RecApp.Refresher.Worker;
using RecApp.Tests.Infrastructure;
using RecApp.Data.Jobs;

namespace RecApp.Tests.Refresher;

/// <summary>
/// One real Refresher (the worker's own composition from <see cref="RecApp.Refresher.Program.CreateWorkerBuilder"/>)
/// with test jobs, against a real database and Redis. Several may share one database, as replicas would.
/// </summary>
internal sealed class RefresherHost : IAsyncDisposable
{
    private RefresherHost(IHost host, string name)
    {
        Host = host;
        Name = name;
    }

    public IHost Host { get; }
    public string Name { get; }
    public bool IsLeader => Host.Services.GetRequiredService<LeaderElection>().IsLeader;

    public static async Task<RefresherHost> StartAsync(
        string database, string name, IEnumerable<IModelJob> jobs, IReadOnlyDictionary<string, string>? settings = null)
    {
        var redis = await TestServers.Redis;
        var arguments = new Dictionary<string, string>
        {
            ["environment"] = "Testing",
            ["ConnectionStrings:recdb"] = database,
            ["ConnectionStrings:redis"] = redis.ConnectionString,
            ["Refresher:InstanceName"] = name,
            ["Refresher:LeaderCheckInterval"] = "00:00:00.300",
            ["Refresher:RequestPollInterval"] = "00:01:00", // long: on-demand tests must be woken by NOTIFY, not by polling
            ["Logging:LogLevel:Default"] = "Warning",
            // The heap is the whole test process's, shared by many hosts: no host may pause it for a trim.
            ["Memory:IdleTrimAfter"] = "00:00:00",
        };
        foreach (var (key, value) in settings ?? new Dictionary<string, string>())
        {
            arguments[key] = value;
        }
        var builder = RecApp.Refresher.Program.CreateWorkerBuilder([.. arguments.SelectMany(a => new[] { $"--{a.Key}", a.Value })]);
        // The scheduling under test runs these stand-ins instead of the engine's real jobs.
        builder.Services.RemoveAll<IModelJob>();
        foreach (var job in jobs)
        {
            builder.Services.AddSingleton(job);
        }
        var host = builder.Build();
        await host.StartAsync();
        return new RefresherHost(host, name);
    }

    public Task StopAsync() => Host.StopAsync();

    public async ValueTask DisposeAsync()
    {
        await Host.StopAsync();
        Host.Dispose();
    }

    /// <summary>A fresh, migrated database.</summary>
    public static async Task<string> CreateDatabaseAsync()
    {
        var postgres = await TestServers.Postgres;
        var connectionString = await postgres.CreateDatabaseAsync("ref");
        await using var dataSource = NpgsqlDataSource.Create(connectionString);
        await new DatabaseMigrator(dataSource, NullLogger<DatabaseMigrator>.Instance).MigrateAsync();
        return connectionString;
    }

    public static async Task<T> ScalarAsync<T>(string database, string sql, params object[] parameters)
    {
        await using var dataSource = NpgsqlDataSource.Create(database);
        await using var command = dataSource.CreateCommand(sql);
        foreach (var parameter in parameters)
        {
            command.Parameters.Add(new NpgsqlParameter { Value = parameter });
        }
        return (T)(await command.ExecuteScalarAsync())!;
    }

    public static async Task ExecuteAsync(string database, string sql, params object[] parameters)
    {
        await using var dataSource = NpgsqlDataSource.Create(database);
        await using var command = dataSource.CreateCommand(sql);
        foreach (var parameter in parameters)
        {
            command.Parameters.Add(new NpgsqlParameter { Value = parameter });
        }
        await command.ExecuteNonQueryAsync();
    }

    /// <summary>What the API's admin endpoint does: a row, then NOTIFY.</summary>
    public static Task RequestRefreshAsync(string database, string job) => ExecuteAsync(database,
        $"WITH r AS (INSERT INTO refresh_requests (job, requested_by) VALUES ($1, 'test') RETURNING job) " +
        $"SELECT pg_notify('{RefreshRequestStore.Channel}', job) FROM r", job);

    public static Task WaitUntilAsync(Func<bool> condition, string what) =>
        LocalProcess.WaitUntilAsync(() => Task.FromResult(condition()), TimeSpan.FromSeconds(20), what);

    public static Task WaitUntilAsync(Func<Task<bool>> condition, string what) =>
        LocalProcess.WaitUntilAsync(condition, TimeSpan.FromSeconds(20), what);
}

/// <summary>A job that counts its runs and returns a configurable result.</summary>
internal sealed class CountingJob(string name, long rows = 10, Func<long?>? version = null) : IModelJob
{
    private int _runs;
    public string Name => name;
    public int Runs => Volatile.Read(ref _runs);
    public ConcurrentQueue<DateTimeOffset> RunTimes { get; } = new();
    public Func<Task>? BeforeReturn { get; set; }

    public async Task<ModelJobResult> RunAsync(CancellationToken cancellationToken)
    {
        RunTimes.Enqueue(DateTimeOffset.UtcNow);
        if (BeforeReturn is not null)
        {
            await BeforeReturn();
        }
        Interlocked.Increment(ref _runs);
        return new ModelJobResult(rows, version?.Invoke());
    }
}

/// <summary>A job that always throws.</summary>
internal sealed class FailingJob(string name) : IModelJob
{
    private int _runs;
    public string Name => name;
    public int Runs => Volatile.Read(ref _runs);

    public Task<ModelJobResult> RunAsync(CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _runs);
        throw new InvalidOperationException("the model could not be built");
    }
}

/// <summary>A job that runs until cancelled, like a long rebuild interrupted by shutdown.</summary>
internal sealed class BlockingJob(string name) : IModelJob
{
    private readonly TaskCompletionSource _started = new(TaskCreationOptions.RunContinuationsAsynchronously);
    public string Name => name;
    public Task Started => _started.Task;

    public async Task<ModelJobResult> RunAsync(CancellationToken cancellationToken)
    {
        _started.TrySetResult();
        await Task.Delay(Timeout.Infinite, cancellationToken);
        return new ModelJobResult(0, null);
    }
}
