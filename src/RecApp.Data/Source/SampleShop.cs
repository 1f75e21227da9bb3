using Microsoft.Extensions.Logging;
using Npgsql;

namespace RecApp.Data.Source;

/// <summary>
/// The AppHost's sample source database: <c>samples/shop/sample-shop.sql</c> (a shop schema unlike RecApp's, a small
/// deterministic sample, and the SELECT-only role <c>shop_reader</c>), run once into an empty database. A real shop's
/// database is never touched by RecApp; this exists so the dual-database mode can be run locally.
/// </summary>
public static class SampleShop
{
    public static async Task EnsureAsync(string connectionString, ILogger logger, CancellationToken cancellationToken)
    {
        await using var dataSource = NpgsqlDataSource.Create(connectionString);
        await using (var exists = dataSource.CreateCommand("SELECT to_regclass('shop.products') IS NOT NULL"))
        {
            if ((bool)(await exists.ExecuteScalarAsync(cancellationToken))!)
            {
                logger.LogInformation("The sample shop exists already.");
                return;
            }
        }
        await using var stream = typeof(SampleShop).Assembly.GetManifestResourceStream("sample-shop.sql")
            ?? throw new InvalidOperationException("The sample shop script is not embedded.");
        using var reader = new StreamReader(stream);
        var script = await reader.ReadToEndAsync(cancellationToken);
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await using (var run = new NpgsqlCommand(script, connection, transaction))
        {
            await run.ExecuteNonQueryAsync(cancellationToken);
        }
        await transaction.CommitAsync(cancellationToken);
        logger.LogInformation("Created the sample shop in database {Database}.", connection.Database);
    }
}
