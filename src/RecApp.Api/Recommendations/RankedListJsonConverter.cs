using System.Buffers;
using System.Text.Json;
using System.Text.Json.Serialization;
using RecApp.Engine.Domain;

namespace RecApp.Api.Recommendations;

/// <summary>
/// A <see cref="RankedList"/> inside the cache's JSON envelope: the compact binary layout of
/// <see cref="RankedListSerializer"/> as one base64 string (16 bytes per item instead of about 25 as JSON numbers,
/// and no number formatting or parsing).
/// </summary>
internal sealed class RankedListJsonConverter : JsonConverter<RankedList>
{
    private static readonly RankedListSerializer s_serializer = new();

    public override RankedList Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType != JsonTokenType.String)
        {
            throw new JsonException("A cached ranked list is a base64 string.");
        }
        try
        {
            return s_serializer.Deserialize(new ReadOnlySequence<byte>(reader.GetBytesFromBase64()));
        }
        catch (InvalidDataException ex)
        {
            throw new JsonException(ex.Message, ex);
        }
    }

    public override void Write(Utf8JsonWriter writer, RankedList value, JsonSerializerOptions options)
    {
        var buffer = new ArrayBufferWriter<byte>(64 + (value.ItemIds.Length * 12));
        s_serializer.Serialize(value, buffer);
        writer.WriteBase64StringValue(buffer.WrittenSpan);
    }
}
