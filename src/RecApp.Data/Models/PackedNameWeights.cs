using System.Collections;
using System.Diagnostics.CodeAnalysis;

namespace RecApp.Data.Models;

/// <summary>
/// A small, read-only name → weight map as two parallel arrays, in the order it was read: what a loaded user profile
/// holds (a few categories, up to 20 tags). A <see cref="Dictionary{TKey, TValue}"/> of that size costs about three
/// times the memory (its hash buckets, entries and spare capacity), and the engine only enumerates a stored profile;
/// a lookup is a scan of at most a few dozen names.
/// </summary>
public sealed class PackedNameWeights : IReadOnlyDictionary<string, float>
{
    public static readonly PackedNameWeights Empty = new([], []);

    private readonly string[] _names;
    private readonly float[] _weights;

    /// <param name="names">Distinct names, in the map's order.</param>
    /// <param name="weights">Each name's weight, in the same order.</param>
    public PackedNameWeights(string[] names, float[] weights)
    {
        ArgumentOutOfRangeException.ThrowIfNotEqual(weights.Length, names.Length, nameof(weights));
        (_names, _weights) = (names, weights);
    }

    public int Count => _names.Length;

    public float this[string key] => TryGetValue(key, out var weight) ? weight : throw new KeyNotFoundException($"No weight for '{key}'.");

    public IEnumerable<string> Keys => _names;

    public IEnumerable<float> Values => _weights;

    public bool ContainsKey(string key) => Array.IndexOf(_names, key) >= 0;

    public bool TryGetValue(string key, [MaybeNullWhen(false)] out float value)
    {
        var index = Array.IndexOf(_names, key);
        value = index >= 0 ? _weights[index] : 0f;
        return index >= 0;
    }

    public IEnumerator<KeyValuePair<string, float>> GetEnumerator()
    {
        for (var i = 0; i < _names.Length; i++)
        {
            yield return new KeyValuePair<string, float>(_names[i], _weights[i]);
        }
    }

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}
