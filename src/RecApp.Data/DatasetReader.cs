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
/// no query per row). A job holds what <see cref="ReadAsync"/> gives it as a <see cref="DatasetLease"/>; the next job
/// reuses the same dataset while one is held and for <see cref="RecApp.Engine.StoreOptions.DatasetReuseWindow"/> after
/// the last lease ended, so the start-up run of every job reads the tables once (the window runs from the end of a
/// job, because a build at 50M interactions outlasts any fixed window counted from the read). With a
/// <see cref="SourceDatabase"/> the catalog and users come from it, combined with RecApp's own users (demographics posted
/// to the API) and interactions (events posted to the API), which live in <c>recdb</c>.
/// </summary>
public sealed class DatasetReader(
    NpgsqlDataSource dataSource, IOptions<RecommendationOptions> options, TimeProvider clock, ILogger<DatasetReader> logger,
    SourceDatabase? source = null) : IDisposable
{
    private readonly SemaphoreSlim _readGate = new(1, 1); // one read of the tables at a time
    private readonly Lock _state = new();
    // Under _state. Dropped by the expiry timer, so the Refresher does not hold a whole dataset between runs.
    private Dataset? _last;
    private long _lastUsed; // TimeProvider timestamp
    private int _holders;
    private ITimer? _expiry;
    private bool _disposed;

    private TimeSpan Window => options.Value.Store.DatasetReuseWindow;

    public async Task<DatasetLease> ReadAsync(CancellationToken cancellationToken)
    {
        await _readGate.WaitAsync(cancellationToken);
        try
        {
            lock (_state)
            {
                if (_last is { } last && (_holders > 0 || clock.GetElapsedTime(_lastUsed) < Window))
                {
                    return Hold(last);
                }
                _last = null; // let the old copy be collected before the new one is read
            }
            var started = Stopwatch.StartNew();
            var dataset = await ReadAllAsync(dataSource, source, cancellationToken);
            logger.LogInformation("Read {Items} items, {Users} users, {Interactions} interactions in {Elapsed} ms.",
                dataset.Items.Count, dataset.Users.Count, dataset.Interactions.Length, started.ElapsedMilliseconds);
            lock (_state)
            {
                _last = dataset;
                return Hold(dataset);
            }
        }
        finally
        {
            _readGate.Release();
        }
    }

    /// <summary>Under <see cref="_state"/>.</summary>
    private DatasetLease Hold(Dataset dataset)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        Touch();
        _holders++;
        return new DatasetLease(dataset, this);
    }

    internal void ReleaseLease()
    {
        lock (_state)
        {
            _holders--;
            if (_last is not null && !_disposed)
            {
                Touch();
            }
        }
    }

    /// <summary>Under <see cref="_state"/>: the window starts again now.</summary>
    private void Touch()
    {
        _lastUsed = clock.GetTimestamp();
        _expiry ??= clock.CreateTimer(_ => Expire(), null, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        _expiry.Change(Window, Timeout.InfiniteTimeSpan);
    }

    private void Expire()
    {
        lock (_state)
        {
            if (_holders > 0 || _last is null || _disposed)
            {
                return; // held: the last release arms the timer again
            }
            var left = Window - clock.GetElapsedTime(_lastUsed);
            if (left > TimeSpan.Zero)
            {
                _expiry!.Change(left, Timeout.InfiniteTimeSpan); // fired a little early, or touched since
                return;
            }
            _last = null;
        }
    }

    public void Dispose()
    {
        lock (_state)
        {
            _disposed = true;
            _last = null;
            _expiry?.Dispose();
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
            var interactions = await ReadInteractionsAsync(connection, transaction, [], cancellationToken);
            await transaction.CommitAsync(cancellationToken);
            return new Dataset(items, users, interactions);
        }

        List<CatalogItem> shopItems;
        List<UserDemographics> shopUsers;
        List<Interaction> fromShop;
        await using (var shop = await source.DataSource.OpenConnectionAsync(cancellationToken))
        {
            await using var snapshot = await shop.BeginTransactionAsync(System.Data.IsolationLevel.RepeatableRead, cancellationToken);
            shopItems = await source.ReadItemsAsync(shop, null, cancellationToken);
            shopUsers = await source.ReadUsersAsync(shop, cancellationToken);
            fromShop = await source.ReadInteractionsAsync(shop, cancellationToken);
            await snapshot.CommitAsync(cancellationToken);
        }
        List<UserDemographics> ownUsers;
        Interaction[] all;
        await using (var connection = await dataSource.OpenConnectionAsync(cancellationToken))
        {
            await using var transaction = await connection.BeginTransactionAsync(System.Data.IsolationLevel.RepeatableRead, cancellationToken);
            ownUsers = await ReadUsersAsync(connection, cancellationToken);
            all = await ReadInteractionsAsync(connection, transaction, fromShop, cancellationToken);
            await transaction.CommitAsync(cancellationToken);
        }
        var byId = shopUsers.ToDictionary(u => u.Id);
        foreach (var own in ownUsers)
        {
            byId[own.Id] = UserReads.Combine(byId.GetValueOrDefault(own.Id), own)!;
        }
        return new Dataset(shopItems, byId.Values.OrderBy(u => u.Id).ToList(), all);
    }

    private static Task<List<UserDemographics>> ReadUsersAsync(NpgsqlConnection connection, CancellationToken cancellationToken) =>
        UserReads.ReadAllAsync(connection, "SELECT id, gender, age_group, geo_id FROM users ORDER BY id", cancellationToken);

    /// <summary>
    /// <paramref name="before"/> followed by <c>recdb</c>'s interactions, in one array sized from a count taken in the same
    /// snapshot: at 50M interactions (2 GB) a growing list reallocated past its first capacity while the old array was
    /// live and <c>ToArray</c> copied once more, three copies at the peak instead of one.
    /// </summary>
    private static async Task<Interaction[]> ReadInteractionsAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, List<Interaction> before, CancellationToken cancellationToken)
    {
        long expected;
        await using (var count = new NpgsqlCommand("SELECT count(*) FROM interactions", connection, transaction))
        {
            expected = (long)(await count.ExecuteScalarAsync(cancellationToken))!;
        }
        var all = new Interaction[(int)Math.Min(before.Count + expected, Array.MaxLength)];
        before.CopyTo(all);
        var n = before.Count;
        before.Clear(); // copied: the shop's events are not kept twice while recdb's are read
        before.TrimExcess();
        await using var reader = await connection.BeginBinaryExportAsync(
            "COPY (SELECT user_id, item_id, type, value, occurred_at FROM interactions) TO STDOUT (FORMAT BINARY)", cancellationToken);
        while (reader.StartRow() != -1)
        {
            var user = reader.Read<long>(NpgsqlDbType.Bigint);
            var item = reader.Read<long>(NpgsqlDbType.Bigint);
            var type = reader.Read<short>(NpgsqlDbType.Smallint);
            float? value = reader.ReadNullable<float>(NpgsqlDbType.Real);
            var at = reader.Read<DateTime>(NpgsqlDbType.TimestampTz);
            if (n == all.Length)
            {
                throw new InvalidOperationException($"The interactions table returned more rows than the {expected} it counted in the same snapshot.");
            }
            all[n++] = new Interaction(user, item, (InteractionType)type, value, at);
            if ((n & 0xFFFF) == 0)
            {
                cancellationToken.ThrowIfCancellationRequested();
            }
        }
        return n == all.Length ? all : all[..n];
    }
}

/// <summary>A job's hold on the dataset it builds from; disposing it starts the reuse window.</summary>
public sealed class DatasetLease : IDisposable
{
    private DatasetReader? _reader;

    internal DatasetLease(Dataset dataset, DatasetReader reader) => (Dataset, _reader) = (dataset, reader);

    public Dataset Dataset { get; }

    public void Dispose() => Interlocked.Exchange(ref _reader, null)?.ReleaseLease();
}
