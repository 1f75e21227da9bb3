namespace RecApp.Engine.Model;

/// <summary>Top-K neighbors per item id, collaborative and content.</summary>
public sealed record ItemNeighborModel(IReadOnlyDictionary<long, ScoredIds> Collaborative, IReadOnlyDictionary<long, ScoredIds> Content);
