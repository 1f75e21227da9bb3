using RecApp.Engine.Embeddings;

namespace RecApp.Engine.Training;

/// <summary>
/// A fit's user and item vectors by id. The Refresher keeps the last similarities build's, and the next build that keeps
/// the same choices (<see cref="TunedChoices"/>) starts its fit from them: after an hour's new interactions the previous
/// optimum is close to the new one, so <see cref="EmbeddingOptions.WarmIterations"/> sweeps reach what a cold start needs
/// <see cref="EmbeddingOptions.Iterations"/> for (docs/EVALUATION.md, "Rebuilds start from the previous fit").
/// </summary>
public sealed class EmbeddingFactors
{
    private readonly Dictionary<long, int> _users;
    private readonly Dictionary<long, int> _items;
    private readonly float[] _userVectors;
    private readonly float[] _itemVectors;

    private EmbeddingFactors(int factors, Dictionary<long, int> users, float[] userVectors, Dictionary<long, int> items, float[] itemVectors) =>
        (Factors, _users, _userVectors, _items, _itemVectors) = (factors, users, userVectors, items, itemVectors);

    public int Factors { get; }

    internal static EmbeddingFactors Of(InteractionMatrix matrix, ImplicitAlsModel model) => new(
        model.Settings.Factors, Rows(matrix.UserIds), model.Users.Values.ToArray(), Rows(matrix.ItemIds), model.Items.Values.ToArray());

    /// <summary>Whether <paramref name="iterations"/> warm sweeps are fewer than a cold fit with <paramref name="settings"/> runs.</summary>
    internal static bool SavesSweeps(int iterations, ImplicitAlsSettings settings) => iterations > 0 && iterations < settings.Iterations;

    /// <summary>
    /// The start of a fit on <paramref name="matrix"/> with <paramref name="iterations"/> sweeps: each user and item this
    /// fit knew starts from its vector. Null (a cold start) when the factors differ or no sweep would be saved.
    /// </summary>
    internal ImplicitAlsStart? StartFor(InteractionMatrix matrix, ImplicitAlsSettings settings, int iterations)
    {
        if (settings.Factors != Factors || !SavesSweeps(iterations, settings))
        {
            return null;
        }
        return new ImplicitAlsStart(_userVectors, Offsets(matrix.UserIds, _users), _itemVectors, Offsets(matrix.ItemIds, _items), iterations);
    }

    private int[] Offsets(long[] ids, Dictionary<long, int> rows)
    {
        var offsets = new int[ids.Length];
        for (var r = 0; r < ids.Length; r++)
        {
            offsets[r] = rows.TryGetValue(ids[r], out var row) ? row * Factors : -1;
        }
        return offsets;
    }

    private static Dictionary<long, int> Rows(long[] ids)
    {
        var rows = new Dictionary<long, int>(ids.Length);
        for (var r = 0; r < ids.Length; r++)
        {
            rows[ids[r]] = r;
        }
        return rows;
    }
}
