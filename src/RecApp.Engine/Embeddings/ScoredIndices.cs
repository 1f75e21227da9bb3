namespace RecApp.Engine.Embeddings;

/// <summary>Item indices best first (score descending, index ascending on ties) with their scores.</summary>
public sealed record ScoredIndices(int[] Indices, float[] Scores)
{
    public static readonly ScoredIndices Empty = new([], []);

    /// <summary>The same list in item ids (index i → <paramref name="itemIds"/>[i]), the engine's neighbor-list shape.</summary>
    public ScoredIds ToScoredIds(IReadOnlyList<long> itemIds) => new(Array.ConvertAll(Indices, i => itemIds[i]), Scores);
}

/// <summary>
/// "Best first" (score descending, equal scores, −0 and +0 included, by id ascending) as one unsigned 64-bit key per
/// entry, so the best of many are found with the primitive sort and a quickselect instead of a comparison delegate per
/// step. Keys are unique where ids are, so any algorithm gives the one total order. The order of every ranked list the
/// engine serves and of the embedding source's exact top K.
/// </summary>
internal static class BestFirst
{
    /// <summary>
    /// The key of (<paramref name="id"/>, <paramref name="score"/>): smaller is better. False when the score is NaN or the
    /// id is outside [0, 2³²), where a key would not reproduce the order (the caller falls back to comparisons).
    /// </summary>
    public static bool TryKey(long id, float score, out ulong key)
    {
        if (float.IsNaN(score) || (ulong)id > uint.MaxValue)
        {
            key = 0;
            return false;
        }
        // Order-preserving bits of the score (−0 as +0: the order treats them as equal), inverted for descending.
        var bits = BitConverter.SingleToUInt32Bits(score == 0f ? 0f : score);
        var ascending = (bits & 0x8000_0000u) != 0 ? ~bits : bits | 0x8000_0000u;
        key = ((ulong)~ascending << 32) | (uint)id;
        return true;
    }

    /// <summary>The id a key was made from.</summary>
    public static uint IdOf(ulong key) => (uint)key;

    /// <summary>
    /// Puts the best <paramref name="count"/> of the distinct <paramref name="keys"/> first, in order, each moving with its
    /// entry of <paramref name="positions"/> (empty when the caller needs none); returns how many that is.
    /// </summary>
    public static int SortBest(Span<ulong> keys, Span<int> positions, int count)
    {
        count = Math.Min(Math.Max(count, 0), keys.Length);
        var withPositions = !positions.IsEmpty;
        if (count < keys.Length / 2)
        {
            // Only the first `count` are kept (the tuner keeps 40 of a user's thousands of candidates): select them,
            // then sort those. Keys are unique, so the result is the full sort's prefix.
            SelectSmallest(keys, positions, count);
            keys = keys[..count];
            positions = withPositions ? positions[..count] : positions;
        }
        if (withPositions)
        {
            keys.Sort(positions);
        }
        else
        {
            keys.Sort();
        }
        return count;
    }

    /// <summary>
    /// Moves the <paramref name="count"/> smallest of the distinct <paramref name="keys"/> (each with its position, if
    /// any) to the front, in no particular order: quickselect with a median-of-three pivot, falling back to a sort should
    /// the partitions keep coming out lopsided.
    /// </summary>
    private static void SelectSmallest(Span<ulong> keys, Span<int> positions, int count)
    {
        var withPositions = !positions.IsEmpty;
        var (left, right, target) = (0, keys.Length - 1, count - 1);
        for (var round = 0; left < right && target >= 0; round++)
        {
            if (round == 64)
            {
                if (withPositions)
                {
                    keys[left..(right + 1)].Sort(positions[left..(right + 1)]);
                }
                else
                {
                    keys[left..(right + 1)].Sort();
                }
                return;
            }
            var middle = left + (right - left) / 2;
            var (a, b, c) = (keys[left], keys[middle], keys[right]);
            var pivot = a < b ? (b < c ? b : a < c ? c : a) : (a < c ? a : b < c ? c : b);
            var (i, j) = (left, right);
            while (i <= j)
            {
                while (keys[i] < pivot)
                {
                    i++;
                }
                while (keys[j] > pivot)
                {
                    j--;
                }
                if (i <= j)
                {
                    (keys[i], keys[j]) = (keys[j], keys[i]);
                    if (withPositions)
                    {
                        (positions[i], positions[j]) = (positions[j], positions[i]);
                    }
                    i++;
                    j--;
                }
            }
            // [left, j] ≤ pivot ≤ [i, right]; anything between is the pivot itself.
            if (target <= j)
            {
                right = j;
            }
            else if (target >= i)
            {
                left = i;
            }
            else
            {
                return;
            }
        }
    }
}
