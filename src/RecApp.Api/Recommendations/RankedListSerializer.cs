using System.Buffers;
using System.Buffers.Binary;
using System.Runtime.InteropServices;
using Microsoft.Extensions.Caching.Hybrid;
using RecApp.Engine.Domain;

namespace RecApp.Api.Recommendations;

/// <summary>
/// How a <see cref="RankedList"/> is stored in Redis: a fixed header and the two arrays as raw little-endian
/// bytes (12 bytes per item instead of about 25 in JSON, and no number formatting or parsing).
/// Layout: version 1 (byte), algorithm (byte), model version (int64), count (int32), ids (int64 × count),
/// scores (float32 × count).
/// </summary>
internal sealed class RankedListSerializer : IHybridCacheSerializer<RankedList>
{
    private const byte FormatVersion = 1;
    private const int HeaderSize = 1 + 1 + 8 + 4;

    public void Serialize(RankedList value, IBufferWriter<byte> target)
    {
        var count = value.ItemIds.Length;
        if (value.Scores.Length != count)
        {
            throw new ArgumentException("A ranked list has one score per item.", nameof(value));
        }
        var size = HeaderSize + (count * (sizeof(long) + sizeof(float)));
        var span = target.GetSpan(size)[..size];
        span[0] = FormatVersion;
        span[1] = (byte)value.Algorithm;
        BinaryPrimitives.WriteInt64LittleEndian(span[2..], value.ModelVersion);
        BinaryPrimitives.WriteInt32LittleEndian(span[10..], count);
        var ids = span.Slice(HeaderSize, count * sizeof(long));
        var scores = span.Slice(HeaderSize + ids.Length, count * sizeof(float));
        if (BitConverter.IsLittleEndian)
        {
            MemoryMarshal.AsBytes(value.ItemIds.AsSpan()).CopyTo(ids);
            MemoryMarshal.AsBytes(value.Scores.AsSpan()).CopyTo(scores);
        }
        else
        {
            for (var i = 0; i < count; i++)
            {
                BinaryPrimitives.WriteInt64LittleEndian(ids[(i * sizeof(long))..], value.ItemIds[i]);
                BinaryPrimitives.WriteSingleLittleEndian(scores[(i * sizeof(float))..], value.Scores[i]);
            }
        }
        target.Advance(size);
    }

    public RankedList Deserialize(ReadOnlySequence<byte> source)
    {
        ReadOnlySpan<byte> span = source.IsSingleSegment ? source.FirstSpan : source.ToArray();
        if (span.Length < HeaderSize || span[0] != FormatVersion)
        {
            throw new InvalidDataException("Not a ranked list in format version 1.");
        }
        var algorithm = (RecommendationAlgorithm)span[1];
        var modelVersion = BinaryPrimitives.ReadInt64LittleEndian(span[2..]);
        var count = BinaryPrimitives.ReadInt32LittleEndian(span[10..]);
        if (count < 0 || span.Length != HeaderSize + (count * (sizeof(long) + sizeof(float))))
        {
            throw new InvalidDataException("Truncated ranked list.");
        }
        var ids = new long[count];
        var scores = new float[count];
        var idBytes = span.Slice(HeaderSize, count * sizeof(long));
        var scoreBytes = span.Slice(HeaderSize + idBytes.Length, count * sizeof(float));
        for (var i = 0; i < count; i++)
        {
            ids[i] = BinaryPrimitives.ReadInt64LittleEndian(idBytes[(i * sizeof(long))..]);
            scores[i] = BinaryPrimitives.ReadSingleLittleEndian(scoreBytes[(i * sizeof(float))..]);
        }
        return new RankedList(ids, scores, algorithm, modelVersion);
    }
}
