using RecApp.Engine.Domain;
using RecApp.Engine.Model;
using RecApp.Data;
using RecApp.Data.Migrations;
using RecApp.Data.Source;

namespace RecApp.Data.Models;

/// <summary>
/// The registry of the global model's independently versioned parts: <see cref="ModelStore"/> reads and cleans up
/// through it, the API's snapshot merges what it reads through it, and the jobs publish its parts. A new part is a
/// <see cref="ModelPart{T}"/> added here (and its property on <see cref="GlobalModel"/> and <see cref="ModelSnapshot"/>).
/// </summary>
public static class ModelParts
{
    public static PopularityPart Popularity { get; } = new();
    public static TrendingPart Trending { get; } = new();
    public static ItemNeighborsPart ItemNeighbors { get; } = new();
    public static UserNeighborsPart UserNeighbors { get; } = new();
    public static ProfilesPart Profiles { get; } = new();
    public static ItemEmbeddingsPart ItemEmbeddings { get; } = new();

    /// <summary>What the build chose (published last by the similarities job, so its version is the job's newest).</summary>
    public static TuningPart Tuning { get; } = new();

    public static IReadOnlyList<ModelPart> All { get; } = [Popularity, Trending, ItemNeighbors, UserNeighbors, Profiles, ItemEmbeddings, Tuning];

    public static IReadOnlyList<string> Names { get; } = [.. All.Select(p => p.Name)];

    /// <summary>Every part of an in-memory build, ready to publish.</summary>
    public static IReadOnlyList<PartWrite> WritesOf(GlobalModel model) => [.. All.Select(part => part.WriteFrom(model))];

    /// <summary>The part called <paramref name="name"/>; null for a name this build does not know (e.g. written by a newer one).</summary>
    public static ModelPart? Find(string name) => All.FirstOrDefault(p => p.Name == name);
}
