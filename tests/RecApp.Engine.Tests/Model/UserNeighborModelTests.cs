using RecApp.Engine.Model;

namespace RecApp.Engine.Tests;

/// <summary>The flat layout gives back each row as it was added, whatever the sizing said.</summary>
public sealed class UserNeighborModelTests
{
    [Fact]
    public void Rows_come_back_as_added_even_past_the_announced_size()
    {
        var builder = new UserNeighborModel.Builder(userCount: 2, itemCount: 3); // fewer than come
        builder.Add(6, [6], [0.3f]); // before any row with neighbors
        builder.Add(7, [1, 2], [0.9f, 0.5f], new ScoredIds([8], [0.7f]));
        builder.Add(8, [], []);
        builder.Add(9, [3, 4, 5], [0.8f, 0.4f, 0.1f]);
        var model = builder.Build();

        Assert.Equal(4, model.Count);
        Assert.Equal([6L, 7L, 8L, 9L], model.UserIds.Order());
        Assert.Equal([6L], model.Items(6).Ids);
        Assert.Empty(model.Neighbors(6).Ids);
        Assert.True(model.TryGetItems(9, out var ids, out var scores));
        Assert.Equal([3L, 4L, 5L], ids.ToArray());
        Assert.Equal([0.8f, 0.4f, 0.1f], scores.ToArray());
        Assert.Equal([1L, 2L], model.Items(7).Ids);
        Assert.Empty(model.Items(8).Ids);
        Assert.Equal([8L], model.Neighbors(7).Ids);
        Assert.Empty(model.Neighbors(9).Ids);
        Assert.False(model.TryGetItems(10, out _, out _));
        Assert.Empty(model.Items(10).Ids);
    }

    [Fact]
    public void A_row_needs_one_score_per_item_and_a_user_one_row()
    {
        var builder = new UserNeighborModel.Builder(1, 2);
        Assert.Throws<ArgumentException>(() => builder.Add(1, [1, 2], [0.5f]));
        builder.Add(1, [1], [0.5f]);
        Assert.Throws<ArgumentException>(() => builder.Add(1, [2], [0.4f]));
        Assert.Equal([1L], builder.Build().Items(1).Ids);
        Assert.Throws<InvalidOperationException>(() => builder.Add(2, [2], [0.4f]));
    }

    [Fact]
    public void The_empty_model_has_no_rows()
    {
        Assert.Equal(0, UserNeighborModel.Empty.Count);
        Assert.False(UserNeighborModel.Empty.TryGetItems(1, out _, out _));
    }
}
