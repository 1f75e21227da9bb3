using RecApp.Data.Models;

namespace RecApp.Tests.Engine;

/// <summary>The loaded profile's name → weight map answers like the dictionary it replaces.</summary>
public sealed class PackedNameWeightsTests
{
    [Fact]
    public void Answers_lookups_and_enumerates_in_its_order()
    {
        var weights = new PackedNameWeights(["rock", "jazz", "folk"], [0.5f, 0.3f, 0.2f]);

        Assert.Equal(3, weights.Count);
        Assert.Equal(0.3f, weights["jazz"]);
        Assert.True(weights.TryGetValue("folk", out var folk));
        Assert.Equal(0.2f, folk);
        Assert.False(weights.TryGetValue("pop", out var pop));
        Assert.Equal(0f, pop);
        Assert.Equal(0f, weights.GetValueOrDefault("pop"));
        Assert.True(weights.ContainsKey("rock"));
        Assert.Throws<KeyNotFoundException>(() => weights["pop"]);
        Assert.Equal(["rock", "jazz", "folk"], weights.Keys);
        Assert.Equal([0.5f, 0.3f, 0.2f], weights.Values);
        Assert.Equal(
            [new("rock", 0.5f), new("jazz", 0.3f), new KeyValuePair<string, float>("folk", 0.2f)],
            weights.ToList());
    }

    [Fact]
    public void Refuses_names_and_weights_of_different_lengths() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => new PackedNameWeights(["rock"], [0.5f, 0.5f]));
}
