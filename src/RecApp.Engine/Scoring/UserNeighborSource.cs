using RecApp.Engine.Model;

namespace RecApp.Engine.Scoring;

/// <summary>User neighbors: the items the user's nearest users liked, precomputed per user by the build.</summary>
public sealed class UserNeighborSource : ICandidateSource
{
    public string Name => BlendWeights.UserNeighborsSource;

    public Dictionary<long, float> Propose(CandidateContext context)
    {
        var scores = context.Scratch.Scores();
        if (context.Snapshot.UserNeighbors.Users.TryGetValue(context.UserId, out var neighborhood))
        {
            for (var k = 0; k < neighborhood.Items.Ids.Length; k++)
            {
                if (context.Allowed(neighborhood.Items.Ids[k]))
                {
                    scores[neighborhood.Items.Ids[k]] = neighborhood.Items.Scores[k];
                }
            }
        }
        return scores;
    }
}
