using Microsoft.Extensions.Logging;
using Npgsql;

namespace RecApp.Data.Migrations;

/// <summary>
/// Creates the database a connection string names when the server lacks it (a local-process PostgreSQL starts with an
/// empty cluster), waiting up to <c>connectTimeout</c> for the server to accept connections.
/// </summary>
public static class DatabaseCreator
{
    /// <summary>Connects to the server's <c>postgres</c> database and creates the target database if absent.</summary>
    public static async Task CreateIfMissingAsync(string connectionString, TimeSpan connectTimeout, ILogger logger, CancellationToken cancellationToken)
    {
        var target = new NpgsqlConnectionStringBuilder(connectionString);
        var name = target.Database ?? throw new InvalidOperationException("A connection string names no database.");
        var maintenance = new NpgsqlConnectionStringBuilder(connectionString) { Database = "postgres", Pooling = false };

        await using var connection = await OpenWithRetryAsync(maintenance.ConnectionString, connectTimeout, logger, cancellationToken);
        await using var exists = new NpgsqlCommand("SELECT 1 FROM pg_database WHERE datname = $1", connection);
        exists.Parameters.Add(new NpgsqlParameter { Value = name });
        if (await exists.ExecuteScalarAsync(cancellationToken) is not null)
        {
            return;
        }
        try
        {
            // An identifier cannot be a parameter; quote it instead.
            await using var create = new NpgsqlCommand($"CREATE DATABASE \"{name.Replace("\"", "\"\"", StringComparison.Ordinal)}\"", connection);
            await create.ExecuteNonQueryAsync(cancellationToken);
            logger.LogInformation("Created database {Database}.", name);
        }
        catch (PostgresException ex) when (ex.SqlState == PostgresErrorCodes.DuplicateDatabase)
        {
            // Created concurrently (e.g. by Aspire's AddDatabase in container mode): nothing to do.
        }
    }

    private static async Task<NpgsqlConnection> OpenWithRetryAsync(
        string connectionString, TimeSpan connectTimeout, ILogger logger, CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow + connectTimeout;
        var delay = TimeSpan.FromMilliseconds(200);
        while (true)
        {
            var connection = new NpgsqlConnection(connectionString);
            try
            {
                await connection.OpenAsync(cancellationToken);
                return connection;
            }
            catch (Exception ex) when (ex is NpgsqlException { IsTransient: true } or PostgresException { SqlState: PostgresErrorCodes.CannotConnectNow }
                                       && DateTime.UtcNow < deadline)
            {
                await connection.DisposeAsync();
                logger.LogInformation("PostgreSQL not reachable yet ({Message}); retrying.", ex.Message);
                await Task.Delay(delay, cancellationToken);
                delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, TimeSpan.FromSeconds(2).Ticks));
            }
        }
    }
}
