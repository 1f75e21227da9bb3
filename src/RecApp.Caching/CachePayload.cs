using System.Buffers;
using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;

namespace RecApp.Caching;

/// <summary>
/// The L2 value layout: a header carrying what readers on any instance need to judge the entry (creation time,
/// logical expiry, tags), then the serialized value, Brotli-compressed when large.
/// <code>
/// "RH" | version 1 | flags (bit 0: compressed) | created ticks (int64) | expires ticks (int64)
/// | tag count (uint16) | per tag: byte length (uint16), UTF-8 | [original length (int32) when compressed] | value
/// </code>
/// </summary>
internal static class CachePayload
{
    private const byte Magic0 = (byte)'R';
    private const byte Magic1 = (byte)'H';
    private const byte Version = 1;
    private const byte CompressedFlag = 1;
    private const int FixedHeader = 4 + 8 + 8 + 2;

    /// <summary>Builds the L2 bytes around an already serialized value.</summary>
    public static byte[] Write(ReadOnlySpan<byte> value, long createdTicks, long expiresTicks, string[] tags, bool compress, out int valueOffset)
    {
        var headerLength = FixedHeader;
        foreach (var tag in tags)
        {
            headerLength += 2 + Encoding.UTF8.GetByteCount(tag);
        }
        byte[]? rented = null;
        var compressedLength = 0;
        if (compress)
        {
            rented = ArrayPool<byte>.Shared.Rent(BrotliEncoder.GetMaxCompressedLength(value.Length));
            if (BrotliEncoder.TryCompress(value, rented, out compressedLength, quality: 1, window: 22)
                && compressedLength + 4 < value.Length)
            {
                headerLength += 4;
            }
            else
            {
                compress = false;
            }
        }
        try
        {
            var bytes = new byte[headerLength + (compress ? compressedLength : value.Length)];
            bytes[0] = Magic0;
            bytes[1] = Magic1;
            bytes[2] = Version;
            bytes[3] = compress ? CompressedFlag : (byte)0;
            BinaryPrimitives.WriteInt64LittleEndian(bytes.AsSpan(4), createdTicks);
            BinaryPrimitives.WriteInt64LittleEndian(bytes.AsSpan(12), expiresTicks);
            BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(20), checked((ushort)tags.Length));
            var position = FixedHeader;
            foreach (var tag in tags)
            {
                var length = Encoding.UTF8.GetBytes(tag, bytes.AsSpan(position + 2));
                BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(position), checked((ushort)length));
                position += 2 + length;
            }
            if (compress)
            {
                BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(position), value.Length);
                position += 4;
                rented.AsSpan(0, compressedLength).CopyTo(bytes.AsSpan(position));
            }
            else
            {
                value.CopyTo(bytes.AsSpan(position));
            }
            valueOffset = position;
            return bytes;
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<byte>.Shared.Return(rented);
            }
        }
    }

    public static bool IsCompressed(byte[] bytes) => (bytes[3] & CompressedFlag) != 0;

    /// <summary>
    /// Parses an L2 value. False for anything that is not a well-formed payload of this format (corrupt, foreign,
    /// another version); <paramref name="error"/> says why. A compressed value is inflated into a new array.
    /// </summary>
    public static bool TryRead(byte[] bytes, out PayloadHeader header, out string error)
    {
        header = default;
        if (bytes.Length < FixedHeader || bytes[0] != Magic0 || bytes[1] != Magic1)
        {
            error = "not a RecApp.Caching payload";
            return false;
        }
        if (bytes[2] != Version)
        {
            error = $"payload version {bytes[2]} is not supported";
            return false;
        }
        var compressed = (bytes[3] & CompressedFlag) != 0;
        var created = BinaryPrimitives.ReadInt64LittleEndian(bytes.AsSpan(4));
        var expires = BinaryPrimitives.ReadInt64LittleEndian(bytes.AsSpan(12));
        int tagCount = BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(20));
        var position = FixedHeader;
        var tags = tagCount == 0 ? [] : new string[tagCount];
        try
        {
            for (var i = 0; i < tagCount; i++)
            {
                int length = BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(position));
                tags[i] = Encoding.UTF8.GetString(bytes.AsSpan(position + 2, length));
                position += 2 + length;
            }
            if (!compressed)
            {
                header = new PayloadHeader(created, expires, tags, bytes, position, bytes.Length - position);
                error = "";
                return true;
            }
            var originalLength = BinaryPrimitives.ReadInt32LittleEndian(bytes.AsSpan(position));
            position += 4;
            var inflated = new byte[originalLength];
            if (!BrotliDecoder.TryDecompress(bytes.AsSpan(position), inflated, out var written) || written != originalLength)
            {
                error = "compressed value does not inflate to its recorded length";
                return false;
            }
            header = new PayloadHeader(created, expires, tags, inflated, 0, originalLength);
            error = "";
            return true;
        }
        catch (Exception ex) when (ex is ArgumentException or IndexOutOfRangeException or OverflowException)
        {
            error = "truncated header";
            return false;
        }
    }
}

/// <summary>A parsed L2 payload; the value is <c>Value[ValueOffset..ValueOffset+ValueLength]</c>.</summary>
internal readonly record struct PayloadHeader(
    long CreatedTicks, long ExpiresTicks, string[] Tags, byte[] Value, int ValueOffset, int ValueLength);
