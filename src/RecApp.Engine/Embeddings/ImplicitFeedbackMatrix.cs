namespace RecApp.Engine.Embeddings;

/// <summary>
/// The input of <see cref="ImplicitAlsBuilder"/>: a user × item matrix of implicit feedback in CSR form (cells of user
/// <c>u</c> are <c>[UserStart[u], UserStart[u+1])</c>, item indices ascending within a user, no duplicates). Every cell is
/// an observed preference; its <see cref="CellValue"/> (≥ 0) only scales the confidence <c>1 + α·value</c>, so a cell whose
/// weight decayed to 0 still counts as seen.
/// </summary>
public sealed class ImplicitFeedbackMatrix
{
    public ImplicitFeedbackMatrix(int itemCount, int[] userStart, int[] cellItem, float[] cellValue, bool[]? itemCandidate = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(itemCount);
        ArgumentNullException.ThrowIfNull(userStart);
        ArgumentNullException.ThrowIfNull(cellItem);
        ArgumentNullException.ThrowIfNull(cellValue);
        if (userStart.Length == 0 || userStart[0] != 0 || userStart[^1] != cellItem.Length || cellItem.Length != cellValue.Length)
        {
            throw new ArgumentException("userStart must run from 0 to the cell count, with one value per cell.", nameof(userStart));
        }
        for (var u = 0; u + 1 < userStart.Length; u++)
        {
            if (userStart[u + 1] < userStart[u])
            {
                throw new ArgumentException($"userStart decreases at user {u}.", nameof(userStart));
            }
        }
        foreach (var item in cellItem)
        {
            if ((uint)item >= (uint)itemCount)
            {
                throw new ArgumentException($"Cell item {item} is outside [0, {itemCount}).", nameof(cellItem));
            }
        }
        if (itemCandidate is not null && itemCandidate.Length != itemCount)
        {
            throw new ArgumentException("One flag per item.", nameof(itemCandidate));
        }
        ItemCount = itemCount;
        UserStart = userStart;
        CellItem = cellItem;
        CellValue = cellValue;
        ItemCandidate = itemCandidate;
    }

    public int UserCount => UserStart.Length - 1;
    public int ItemCount { get; }
    public int[] UserStart { get; }
    public int[] CellItem { get; }
    public float[] CellValue { get; }

    /// <summary>Items that may be recommended (e.g. active); null = all. Items without cells are never candidates.</summary>
    public bool[]? ItemCandidate { get; }

    public int CellCount => CellItem.Length;

    /// <summary>Builds the CSR from (user, item, value) triples; duplicate pairs add their values.</summary>
    public static ImplicitFeedbackMatrix FromTriples(int userCount, int itemCount, IEnumerable<(int User, int Item, float Value)> triples)
    {
        var rows = new SortedDictionary<int, float>[userCount];
        foreach (var (user, item, value) in triples)
        {
            if ((uint)user >= (uint)userCount || (uint)item >= (uint)itemCount)
            {
                throw new ArgumentOutOfRangeException(nameof(triples), $"Cell ({user}, {item}) is outside {userCount} × {itemCount}.");
            }
            var row = rows[user] ??= [];
            row[item] = row.GetValueOrDefault(item) + value;
        }
        var userStart = new int[userCount + 1];
        for (var u = 0; u < userCount; u++)
        {
            userStart[u + 1] = userStart[u] + (rows[u]?.Count ?? 0);
        }
        var cellItem = new int[userStart[userCount]];
        var cellValue = new float[cellItem.Length];
        for (var u = 0; u < userCount; u++)
        {
            var c = userStart[u];
            foreach (var (item, value) in rows[u] ?? [])
            {
                cellItem[c] = item;
                cellValue[c++] = value;
            }
        }
        return new ImplicitFeedbackMatrix(itemCount, userStart, cellItem, cellValue);
    }


    /// <summary>The item × user transpose (users ascending within an item), for the item half-step.</summary>
    internal (int[] ItemStart, int[] CellUser, float[] CellValue) Transpose()
    {
        var itemStart = new int[ItemCount + 1];
        foreach (var item in CellItem)
        {
            itemStart[item + 1]++;
        }
        for (var i = 0; i < ItemCount; i++)
        {
            itemStart[i + 1] += itemStart[i];
        }
        var fill = (int[])itemStart.Clone();
        var cellUser = new int[CellItem.Length];
        var cellValue = new float[CellItem.Length];
        for (var u = 0; u < UserCount; u++)
        {
            for (var c = UserStart[u]; c < UserStart[u + 1]; c++)
            {
                var position = fill[CellItem[c]]++;
                cellUser[position] = u;
                cellValue[position] = CellValue[c];
            }
        }
        return (itemStart, cellUser, cellValue);
    }
}
