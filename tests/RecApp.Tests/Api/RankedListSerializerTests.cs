using System.Buffers;
using RecApp.Api.Recommendations;
using RecApp.Engine.Domain;

namespace RecApp.Tests.Api;

public sealed class RankedListSerializerTests
{
    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(200)]
    public void A_list_round_trips_exactly(int count)
    {
        var list = new RankedList(
            Enumerable.Range(0, count).Select(i => (long)i * 1_000_003 + 7).ToArray(),
            Enumerable.Range(0, count).Select(i => 1f / (i + 1)).ToArray(),
            RecommendationAlgorithm.Collaborative, 42);
        var serializer = new RankedListSerializer();
        var buffer = new ArrayBufferWriter<byte>();

        serializer.Serialize(list, buffer);
        var back = serializer.Deserialize(new ReadOnlySequence<byte>(buffer.WrittenMemory));

        Assert.Equal(14 + (12 * count), buffer.WrittenCount);
        Assert.Equal(list.ItemIds, back.ItemIds);
        Assert.Equal(list.Scores, back.Scores);
        Assert.Equal(list.Algorithm, back.Algorithm);
        Assert.Equal(list.ModelVersion, back.ModelVersion);
    }

    [Fact]
    public void A_truncated_or_foreign_payload_is_rejected()
    {
        var serializer = new RankedListSerializer();
        var buffer = new ArrayBufferWriter<byte>();
        serializer.Serialize(new RankedList([1, 2], [1f, 0.5f], RecommendationAlgorithm.Popular, 1), buffer);

        Assert.Throws<InvalidDataException>(() => serializer.Deserialize(new ReadOnlySequence<byte>(buffer.WrittenMemory[..^1])));
        Assert.Throws<InvalidDataException>(() => serializer.Deserialize(new ReadOnlySequence<byte>("{\"item_ids\":[]}"u8.ToArray())));
    }
}
