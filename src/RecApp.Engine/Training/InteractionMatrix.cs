using System.Collections.Concurrent;
using RecApp.Engine.Domain;
using RecApp.Engine.Embeddings;
using RecApp.Engine.Scoring;

namespace RecApp.Engine.Training;

/// <summary>
/// The dataset as dense int-indexed sparse matrices, built once per job and shared by the builders: items are
/// catalog rows (index = position in <see cref="ItemIds"/>), users are those with at least one event on a
/// catalog item. Each (user, item) cell holds <c>log(1 + Σ type weight × decay)</c>, so repeated views cannot
/// outweigh a purchase by volume alone. Rows are sorted by item index; <see cref="RecentOrder"/> lists each
/// user's cells most recent first (for history caps).
/// </summary>
internal sealed class InteractionMatrix
{
    public required long[] ItemIds { get; init; }
    public required Dictionary<long, int> ItemIndex { get; init; }
    public required CatalogItem[] Items { get; init; }
    public required long[] UserIds { get; init; }
    public required Dictionary<long, int> UserIndex { get; init; }

    /// <summary>CSR by user: cells of user u are <c>[UserStart[u], UserStart[u+1])</c>.</summary>
    public required int[] UserStart { get; init; }
    public required int[] CellItem { get; init; }
    public required float[] CellWeight { get; init; }
    public required long[] CellLastTicks { get; init; }

    /// <summary>Per user, cell offsets (absolute) ordered most recent first.</summary>
    public required int[] RecentOrder { get; init; }

    /// <summary>Raw event count per user.</summary>
    public required int[] UserEventCount { get; init; }

    /// <summary>Distinct users per item.</summary>
    public required int[] ItemUserCount { get; init; }

    public int ItemCount => ItemIds.Length;
    public int UserCount => UserIds.Length;

    public static InteractionMatrix Build(Dataset dataset, RecommendationOptions options, DateTime asOf)
    {
        var items = dataset.Items.OrderBy(i => i.Id).ToArray(); // index order = id order: ties break by id
        var itemIds = new long[items.Length];
        var itemIndex = new Dictionary<long, int>(items.Length);
        for (var i = 0; i < items.Length; i++)
        {
            itemIds[i] = items[i].Id;
            itemIndex[items[i].Id] = i;
        }

        // Pass 1: index users, resolve items, keep only events on catalog items.
        var events = dataset.Interactions;
        var userIndex = new Dictionary<long, int>();
        var userIds = new List<long>();
        var eventUser = new int[events.Length];
        var eventItem = new int[events.Length];
        var kept = 0;
        for (var e = 0; e < events.Length; e++)
        {
            if (!itemIndex.TryGetValue(events[e].ItemId, out var item))
            {
                eventUser[e] = -1;
                continue;
            }
            if (!userIndex.TryGetValue(events[e].UserId, out var user))
            {
                user = userIds.Count;
                userIndex[events[e].UserId] = user;
                userIds.Add(events[e].UserId);
            }
            eventUser[e] = user;
            eventItem[e] = item;
            kept++;
        }
        var userCount = userIds.Count;
        // Users in id order, whatever order the events came in (a database read and an in-memory dataset build the same
        // matrix, so ties, samples and holdouts agree).
        var byId = Enumerable.Range(0, userCount).ToArray();
        var sortedIds = userIds.ToArray();
        Array.Sort(sortedIds, byId);
        var remap = new int[userCount];
        for (var k = 0; k < userCount; k++)
        {
            remap[byId[k]] = k;
            userIndex[sortedIds[k]] = k;
        }
        userIds = [.. sortedIds];
        for (var e = 0; e < events.Length; e++)
        {
            if (eventUser[e] >= 0)
            {
                eventUser[e] = remap[eventUser[e]];
            }
        }

        // Pass 2: bucket events by user (counting sort).
        var userEventCount = new int[userCount];
        for (var e = 0; e < events.Length; e++)
        {
            if (eventUser[e] >= 0)
            {
                userEventCount[eventUser[e]]++;
            }
        }
        var start = new int[userCount + 1];
        for (var u = 0; u < userCount; u++)
        {
            start[u + 1] = start[u] + userEventCount[u];
        }
        var fill = (int[])start.Clone();
        var bucketItem = new int[kept];
        var bucketWeight = new float[kept];
        var bucketTicks = new long[kept];
        for (var e = 0; e < events.Length; e++)
        {
            var u = eventUser[e];
            if (u < 0)
            {
                continue;
            }
            var position = fill[u]++;
            var ev = events[e];
            bucketItem[position] = eventItem[e];
            var ageDays = (asOf - ev.OccurredAt).TotalDays;
            bucketWeight[position] = options.EventWeight(ev.Type, ev.Value) * options.Decay(ageDays);
            bucketTicks[position] = ev.OccurredAt.Ticks;
        }
        eventUser = null!;
        eventItem = null!;

        // Pass 3: per user, sort by item and merge duplicates into one cell. Users are independent, so this runs in
        // parallel over ranges of users: each user's events are sorted in place and their distinct items counted, then
        // the cells are written at the offsets those counts give (the same sort and sums as one user at a time).
        var order = new int[kept];
        var distinct = new int[userCount];
        ForUserRanges(userCount, u =>
        {
            var from = start[u];
            var length = start[u + 1] - from;
            for (var k = from; k < from + length; k++)
            {
                order[k] = k;
            }
            Array.Sort(bucketItem, order, from, length);
            for (var k = from; k < from + length; k++)
            {
                distinct[u] += k == from || bucketItem[k] != bucketItem[k - 1] ? 1 : 0;
            }
        });
        var userStart = new int[userCount + 1];
        for (var u = 0; u < userCount; u++)
        {
            userStart[u + 1] = userStart[u] + distinct[u];
        }
        var cells = userStart[userCount];
        var cellItem = new int[cells];
        var cellWeight = new float[cells];
        var cellTicks = new long[cells];
        ForUserRanges(userCount, u =>
        {
            var cell = userStart[u];
            var (k, end) = (start[u], start[u + 1]);
            while (k < end)
            {
                var item = bucketItem[k];
                var sum = 0.0; // double: the sum of a few floats does not depend on their order
                var last = long.MinValue;
                while (k < end && bucketItem[k] == item)
                {
                    sum += bucketWeight[order[k]];
                    last = Math.Max(last, bucketTicks[order[k]]);
                    k++;
                }
                cellItem[cell] = item;
                cellWeight[cell] = (float)Math.Log(1 + sum);
                cellTicks[cell] = last;
                cell++;
            }
        });

        // Most recent first per user; ties by item index for determinism.
        var recent = new int[cells];
        ForUserRanges(userCount, u =>
        {
            var from = userStart[u];
            var length = userStart[u + 1] - from;
            for (var k = 0; k < length; k++)
            {
                recent[from + k] = from + k;
            }
            SortRecent(recent.AsSpan(from, length), cellTicks, cellItem);
        });

        var itemUserCount = new int[items.Length];
        for (var c = 0; c < cells; c++)
        {
            itemUserCount[cellItem[c]]++;
        }

        return new InteractionMatrix
        {
            ItemIds = itemIds,
            ItemIndex = itemIndex,
            Items = items,
            UserIds = userIds.ToArray(),
            UserIndex = userIndex,
            UserStart = userStart,
            CellItem = cellItem,
            CellWeight = cellWeight,
            CellLastTicks = cellTicks,
            RecentOrder = recent,
            UserEventCount = userEventCount,
            ItemUserCount = itemUserCount,
        };
    }

    /// <summary>
    /// Splits off a holdout: for each user with at least 4 items, a seeded random <paramref name="fraction"/> of their
    /// cells leaves the returned matrix (same item and user indexing) and is returned as that user's held-out items.
    /// With more than <paramref name="maxUsers"/> users, only a seeded sample of them keeps any cells.
    /// </summary>
    public (InteractionMatrix Train, Dictionary<int, HashSet<int>> HeldOut) HoldOut(double fraction, int seed, int maxUsers = int.MaxValue)
    {
        var random = new Random(seed);
        var drop = new bool[CellItem.Length];
        var heldOut = new Dictionary<int, HashSet<int>>();
        // Beyond maxUsers, a seeded sample of users keeps its cells and the others leave the matrix (a cheaper model).
        var sampled = new bool[UserCount];
        var order = Enumerable.Range(0, UserCount).ToArray();
        new Random(seed + 1).Shuffle(order);
        foreach (var u in order.Take(maxUsers))
        {
            sampled[u] = true;
        }
        for (var u = 0; u < UserCount; u++)
        {
            var length = UserStart[u + 1] - UserStart[u];
            if (!sampled[u])
            {
                drop.AsSpan(UserStart[u], length).Fill(true);
                continue;
            }
            if (length < 4)
            {
                continue;
            }
            var cells = Enumerable.Range(UserStart[u], length).ToArray();
            random.Shuffle(cells);
            var count = (int)Math.Round(length * fraction);
            heldOut[u] = [.. cells.Take(count).Select(c => CellItem[c])];
            foreach (var c in cells.Take(count))
            {
                drop[c] = true;
            }
        }
        var userStart = new int[UserCount + 1];
        var kept = new List<int>(CellItem.Length);
        for (var u = 0; u < UserCount; u++)
        {
            userStart[u] = kept.Count;
            for (var c = UserStart[u]; c < UserStart[u + 1]; c++)
            {
                if (!drop[c])
                {
                    kept.Add(c);
                }
            }
        }
        userStart[UserCount] = kept.Count;
        var position = new int[CellItem.Length];
        for (var k = 0; k < kept.Count; k++)
        {
            position[kept[k]] = k;
        }
        var recent = RecentOrder.Where(c => !drop[c]).Select(c => position[c]).ToArray();
        var itemUsers = new int[ItemCount];
        foreach (var c in kept)
        {
            itemUsers[CellItem[c]]++;
        }
        var train = new InteractionMatrix
        {
            ItemIds = ItemIds,
            ItemIndex = ItemIndex,
            Items = Items,
            UserIds = UserIds,
            UserIndex = UserIndex,
            UserStart = userStart,
            CellItem = kept.Select(c => CellItem[c]).ToArray(),
            CellWeight = kept.Select(c => CellWeight[c]).ToArray(),
            CellLastTicks = kept.Select(c => CellLastTicks[c]).ToArray(),
            RecentOrder = recent,
            UserEventCount = UserEventCount,
            ItemUserCount = itemUsers,
        };
        return (train, heldOut);
    }

    /// <summary>Runs <paramref name="perUser"/> for every user, in parallel over ranges of users (one user is too little work for a task).</summary>
    private static void ForUserRanges(int userCount, Action<int> perUser)
    {
        if (userCount == 0)
        {
            return; // Partitioner.Create rejects an empty range
        }
        Parallel.ForEach(Partitioner.Create(0, userCount, Math.Max(256, userCount / 64 + 1)), range =>
        {
            for (var u = range.Item1; u < range.Item2; u++)
            {
                perUser(u);
            }
        });
    }

    private static void SortRecent(Span<int> cells, long[] ticks, int[] items) =>
        cells.Sort((a, b) => ticks[a] != ticks[b] ? ticks[b].CompareTo(ticks[a]) : items[a].CompareTo(items[b]));

    /// <summary>
    /// The capped view used for co-occurrence: each user's <paramref name="cap"/> most recent cells, as CSR by
    /// user (sorted by item) and its transpose (CSR by item, users ascending).
    /// </summary>
    public CappedMatrix Capped(int cap)
    {
        var userStart = new int[UserCount + 1];
        for (var u = 0; u < UserCount; u++)
        {
            userStart[u + 1] = userStart[u] + Math.Min(cap, UserStart[u + 1] - UserStart[u]);
        }
        var total = userStart[UserCount];
        var items = new int[total];
        var weights = new float[total];
        for (var u = 0; u < UserCount; u++)
        {
            var from = UserStart[u];
            var length = userStart[u + 1] - userStart[u];
            var selected = RecentOrder.AsSpan(from, length).ToArray();
            Array.Sort(selected); // cell offsets are item-ordered within a user
            for (var k = 0; k < length; k++)
            {
                items[userStart[u] + k] = CellItem[selected[k]];
                weights[userStart[u] + k] = CellWeight[selected[k]];
            }
        }

        var itemStart = new int[ItemCount + 1];
        foreach (var item in items)
        {
            itemStart[item + 1]++;
        }
        for (var i = 0; i < ItemCount; i++)
        {
            itemStart[i + 1] += itemStart[i];
        }
        var fill = (int[])itemStart.Clone();
        var users = new int[total];
        var userWeights = new float[total];
        for (var u = 0; u < UserCount; u++)
        {
            for (var c = userStart[u]; c < userStart[u + 1]; c++)
            {
                var position = fill[items[c]]++;
                users[position] = u;
                userWeights[position] = weights[c];
            }
        }
        return new CappedMatrix(userStart, items, weights, itemStart, users, userWeights);
    }

    /// <summary>
    /// The engine's matrix as iALS input, sharing its arrays (no copy): rows are the engine's user indices, columns its
    /// item indices, values its cell weights <c>log(1 + Σ type weight × decay)</c>; inactive items are not candidates.
    /// </summary>
    internal ImplicitFeedbackMatrix ToImplicitFeedback()
    {
        var candidate = new bool[ItemCount];
        for (var i = 0; i < candidate.Length; i++)
        {
            candidate[i] = Items[i].Active;
        }
        return new ImplicitFeedbackMatrix(ItemCount, UserStart, CellItem, CellWeight, candidate);
    }
}

/// <summary>User×item CSR and its item×user transpose, both over the capped histories.</summary>
internal sealed record CappedMatrix(int[] UserStart, int[] UserItems, float[] UserWeights, int[] ItemStart, int[] ItemUsers, float[] ItemWeights);
