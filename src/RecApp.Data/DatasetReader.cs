using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;
using NpgsqlTypes;
using RecApp.Engine;
using RecApp.Engine.Domain;
using RecApp.Engine.Embeddings;
using RecApp.Data.Catalog;
using RecApp.Data.Users;
using RecApp.Data.Source;

namespace RecApp.Data;

/// <summary>
/// Reads the whole catalog, users and interactions with binary <c>COPY ... TO STDOUT</c> (three streaming reads,
/// no query per row). A read younger than <see cref="RecApp.Engine.StoreOptions.DatasetReuseWindow"/> is handed out
/// again, so the start-up run of every job reads the tables once. With a <see cref="SourceDatabase"/> the catalog and
/// users come from it, combined with RecApp's own users (demographics posted to the API) and interactions (events posted
/// to the API), which live in <c>recdb</c>.
/// </summary>
public sealed class DatasetReader(
    NpgsqlDataSource dataSource, IOptions<RecommendationOptions> options, TimeProvider clock, ILogger<DatasetReader> logger,
    SourceDatabase? source = null)
{
    private readonly SemaphoreSlim _gate = new(1, 1);
    // Replaced under _gate; cleared by the expiry continuation with a compare-and-swap (no thread blocked on the gate).
    private Cached? _last;

    private sealed record Cached(Dataset Dataset, DateTimeOffset ReadAt);

    public async Task<Dataset> ReadAsync(CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken);
        try
        {
            if (Volatile.Read(ref _last) is { } last && clock.GetUtcNow() - last.ReadAt < options.Value.Store.DatasetReuseWindow)
            {
                return last.Dataset;
            }
            Volatile.Write(ref _last, null); // let the old copy be collected before the new one is read
            var started = Stopwatch.StartNew();
            var dataset = await ReadAllAsync(dataSource, source, cancellationToken);
            logger.LogInformation("Read {Items} items, {Users} users, {Interactions} interactions in {Elapsed} ms.",
                dataset.Items.Count, dataset.Users.Count, dataset.Interactions.Length, started.ElapsedMilliseconds);
            var entry = new Cached(dataset, clock.GetUtcNow());
            Volatile.Write(ref _last, entry);
            // Drop the copy once the window has passed, so the Refresher does not hold a whole dataset between runs.
            _ = Task.Delay(options.Value.Store.DatasetReuseWindow, clock, CancellationToken.None).ContinueWith(
                _ => Interlocked.CompareExchange(ref _last, null, entry), TaskScheduler.Default);
            return dataset;
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Reads everything now (no reuse), from <c>recdb</c> alone.</summary>
    public static Task<Dataset> ReadAllAsync(NpgsqlDataSource dataSource, CancellationToken cancellationToken) =>
        ReadAllAsync(dataSource, null, cancellationToken);

    /// <summary>
    /// Reads everything now (no reuse). With <paramref name="source"/>: its items and users (one snapshot of it) and
    /// interactions, plus <c>recdb</c>'s users (filling demographics the source leaves unknown,
    /// <see cref="UserReads.Combine"/>) and interactions (the events posted to RecApp's API).
    /// </summary>
    public static async Task<Dataset> ReadAllAsync(NpgsqlDataSource dataSource, SourceDatabase? source, CancellationToken cancellationToken)
    {
        if (source is null)
        {
            await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
            // One snapshot for the three reads, so interactions never point at items read in a different state.
            await using var transaction = await connection.BeginTransactionAsync(System.Data.IsolationLevel.RepeatableRead, cancellationToken);
            var items = await CatalogStore.ReadItemsAsync(connection, null, cancellationToken);
            var users = await ReadUsersAsync(connection, cancellationToken);
            var interactions = await ReadInteractionsAsync(connection, transaction, new List<Interaction>(), cancellationToken);
            await transaction.CommitAsync(cancellationToken);
            return new Dataset(items, users, interactions.ToArray());
        }

        List<CatalogItem> shopItems;
        List<UserDemographics> shopUsers;
        List<Interaction> all;
        await using (var shop = await source.DataSource.OpenConnectionAsync(cancellationToken))
        {
            await using var snapshot = await shop.BeginTransactionAsync(System.Data.IsolationLevel.RepeatableRead, cancellationToken);
            shopItems = await source.ReadItemsAsync(shop, null, cancellationToken);
            shopUsers = await source.ReadUsersAsync(shop, cancellationToken);
            all = await source.ReadInteractionsAsync(shop, cancellationToken);
            await snapshot.CommitAsync(cancellationToken);
        }
        List<UserDemographics> ownUsers;
        await using (var connection = await dataSource.OpenConnectionAsync(cancellationToken))
        {
            await using var transaction = await connection.BeginTransactionAsync(System.Data.IsolationLevel.RepeatableRead, cancellationToken);
            ownUsers = await ReadUsersAsync(connection, cancellationToken);
            all = await ReadInteractionsAsync(connection, transaction, all, cancellationToken);
            await transaction.CommitAsync(cancellationToken);
        }
        var byId = shopUsers.ToDictionary(u => u.Id);
        foreach (var own in ownUsers)
        {
            byId[own.Id] = UserReads.Combine(byId.GetValueOrDefault(own.Id), own)!;
        }
        return new Dataset(shopItems, byId.Values.OrderBy(u => u.Id).ToList(), all.ToArray());
    }

    private static Task<List<UserDemographics>> ReadUsersAsync(NpgsqlConnection connection, CancellationToken cancellationToken) =>
        UserReads.ReadAllAsync(connection, "SELECT id, gender, age_group, geo_id FROM users ORDER BY id", cancellationToken);

    /// <summary>Appends <c>recdb</c>'s interactions to <paramref name="interactions"/>.</summary>
    private static async Task<List<Interaction>> ReadInteractionsAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, List<Interaction> interactions, CancellationToken cancellationToken)
    {
        await using (var count = new NpgsqlCommand("SELECT count(*) FROM interactions", connection, transaction))
        {
            var expected = (long)(await count.ExecuteScalarAsync(cancellationToken))!;
            interactions.EnsureCapacity((int)Math.Min(interactions.Count + expected, int.MaxValue / 64));
        }
        await using var reader = await connection.BeginBinaryExportAsync(
            "COPY (SELECT user_id, item_id, type, value, occurred_at FROM interactions) TO STDOUT (FORMAT BINARY)", cancellationToken);
        while (reader.StartRow() != -1)
        {
            var user = reader.Read<long>(NpgsqlDbType.Bigint);
            var item = reader.Read<long>(NpgsqlDbType.Bigint);
            var type = reader.Read<short>(NpgsqlDbType.Smallint);
            float? value = reader.ReadNullable<float>(NpgsqlDbType.Real);
            var at = reader.Read<DateTime>(NpgsqlDbType.TimestampTz);
            interactions.Add(new Interaction(user, item, (InteractionType)type, value, at));
            if ((interactions.Count & 0xFFFF) == 0)
            {
                cancellationToken.ThrowIfCancellationRequested();
            }
        }
        return interactions;
    }
}
