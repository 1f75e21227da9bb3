using RecApp.Engine.Model;

namespace RecApp.Engine.Scoring;

/// <summary>
/// What a candidate source is asked with: the model, the user, their history weighted as the builders weigh it
/// (<c>log(1 + Σ type weight × decay)</c> per distinct item), which items may be proposed at all (not seen, servable
/// under the filters), and the popular list for their demographics (computed once: the popular source proposes it, and
/// it fills short lists).
/// </summary>
public sealed record CandidateContext(
    ModelSnapshot Snapshot,
    long UserId,
    IReadOnlyDictionary<long, float> History,
    Func<long, bool> Allowed,
    IReadOnlyDictionary<long, float> Popular)
{
    /// <summary>Where the sources take their dictionaries from: the request's pooled scratch on the serving path.</summary>
    internal ScoringScratch Scratch { get; init; } = ScoringScratch.None;
}

/// <summary>
/// One way of nominating items for a user, by name: the name the blend weighs it by (<see cref="BlendWeights.SourceNames"/>)
/// and operators see in explanations. Scores are the source's own (higher is better); the blend ranks them, so scales
/// need not agree.
/// </summary>
public interface ICandidateSource
{
    string Name { get; }

    /// <summary>
    /// A dictionary of candidate ids and scores that the caller may change: new, or the request's own from its pooled
    /// scratch (on the serving path, until the request ends).
    /// </summary>
    Dictionary<long, float> Propose(CandidateContext context);
}
