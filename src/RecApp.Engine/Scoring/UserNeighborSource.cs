using RecApp.Engine.Model;

namespace RecApp.Engine.Scoring;

/// <summary>User neighbors: the items the user's nearest users liked, precomputed per user by the build.</summary>
public sealed class UserNeighborSource : ICandidateSource
{
    public string Name => BlendWeights.UserNeighborsSource;

    public Dictionary<long, float> Propose(CandidateContext context)
    {
        var scores = context.Scratch.Scores();
        if (context.Snapshot.UserNeighbors.TryGetItems(context.UserId, out var ids, out var itemScores))
        {
            for (var k = 0; k < ids.Length; k++)
            {
                if (context.Allowed(ids[k]))
                {
                    scores[ids[k]] = itemScores[k];
                }
            }
        }
        return scores;
    }
}
